from arkive_common.service import run_service

from .bootstrap import bootstrap

if __name__ == "__main__":
    run_service("lineage", bootstrap)
