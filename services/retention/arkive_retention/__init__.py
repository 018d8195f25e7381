"""The retention service: owns what retention decisions need (versions, their aliases)."""
