"""RDS: whether an instance runs Performance Insights.

The gap (moto 5.2.5, `moto/rds/models.py` `RDSBackend.create_db_instance`,
`modify_db_instance`): `EnablePerformanceInsights` is dropped, and DescribeDBInstances never
reports `PerformanceInsightsEnabled`, so the setting cannot be read back and its drift is
invisible.

On AWS (model rds: CreateDBInstance.EnablePerformanceInsights, ModifyDBInstance,
DBInstance.PerformanceInsightsEnabled): the instance reports `PerformanceInsightsEnabled`, false
unless a create or modify turned it on.
"""

from typing import Any

from moto.rds import models

WRITTEN_FOR = "5.2.5"


def register() -> None:
    backend = models.RDSBackend
    original_create = backend.create_db_instance
    if getattr(original_create, "_carbonc_plugin", None) == __name__:
        return
    original_modify = backend.modify_db_instance

    def create_db_instance(self: Any, db_kwargs: dict[str, Any]) -> Any:
        instance = original_create(self, db_kwargs)
        instance.performance_insights_enabled = bool(db_kwargs.get("enable_performance_insights"))
        return instance

    def modify_db_instance(self: Any, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> Any:
        enabled = db_kwargs.get("enable_performance_insights")
        instance = original_modify(self, db_instance_identifier, db_kwargs)
        if enabled is not None:
            instance.performance_insights_enabled = bool(enabled)
        return instance

    create_db_instance._carbonc_plugin = __name__  # type: ignore[attr-defined]
    backend.create_db_instance = create_db_instance
    backend.modify_db_instance = modify_db_instance
