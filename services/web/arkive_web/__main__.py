from arkive_common.service import run_service

from .app import bootstrap

if __name__ == "__main__":
    run_service("web", bootstrap)
