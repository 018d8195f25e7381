from arkive_common.service import run_service

from .server import bootstrap

if __name__ == "__main__":
    run_service("gateway", bootstrap)
