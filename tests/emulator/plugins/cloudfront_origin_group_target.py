"""CloudFront: a cache behaviour's TargetOriginId may name an origin group.

The bug (moto 5.2.5): `moto/cloudfront/models.py`, `DistributionConfig.__init__` (run by
CreateDistribution, CreateDistributionWithTags and UpdateDistribution) ends with

    if config["DefaultCacheBehavior"].target_origin_id not in [
        o.id for o in config["Origins"]["Items"]
    ]:
        raise OriginDoesNotExist

so a DefaultCacheBehavior whose TargetOriginId names an origin group of `OriginGroups` (the
way CloudFront fails over between two origins, which carbonc's multi-region footprints rely
on) is rejected with NoSuchOrigin, while AWS accepts it.

The fix wraps that constructor and nothing else. AWS's rule is kept: the id must name an
origin or an origin group of the same distribution, else NoSuchOrigin. When it names a group
(and no origin), moto's check is shown one of the distribution's origins instead, and the
group's id is put back into the built configuration, so GetDistribution, GetDistributionConfig
and ListDistributions return what was sent. Also as AWS does, every member of every origin
group must name an origin of the distribution (NoSuchOrigin otherwise); moto checks nothing
about groups. Configurations without origin groups take moto's own path unchanged.
"""

import functools
from typing import Any

from moto.cloudfront import models
from moto.cloudfront.exceptions import OriginDoesNotExist

WRITTEN_FOR = "5.2.5"


def _items(collection: Any) -> list[Any]:
    """The `Items` of a CloudFront `{Quantity, Items}` list, as a list of dicts."""
    if not isinstance(collection, dict):
        return []
    items = collection.get("Items") or []
    if isinstance(items, dict):  # a single item, should a parser not wrap it in a list
        items = [items]
    return [item for item in items if isinstance(item, dict)]


def _check_groups_and_retarget(config: dict[str, Any]) -> str | None:
    """Validates the origin groups of a raw DistributionConfig and, when the default cache
    behaviour targets one of them, points it at an origin for moto's check.

    Returns the group id to restore after moto's constructor, or None.
    """
    groups = _items(config.get("OriginGroups"))
    if not groups:
        return None
    origin_ids = [o.get("Id") for o in _items(config.get("Origins"))]
    for group in groups:
        for member in _items(group.get("Members")):
            if member.get("OriginId") not in origin_ids:
                raise OriginDoesNotExist
    behaviour = config.get("DefaultCacheBehavior")
    if not isinstance(behaviour, dict) or not origin_ids:
        return None
    target = behaviour.get("TargetOriginId")
    if target in origin_ids or target not in [g.get("Id") for g in groups]:
        return None  # an origin, or nothing we know: moto decides as before
    config["DefaultCacheBehavior"] = dict(behaviour, TargetOriginId=origin_ids[0])
    return target


def register() -> None:
    original = models.DistributionConfig.__init__
    if getattr(original, "_carbonc_plugin", None) == __name__:
        return  # already applied

    @functools.wraps(original)
    def __init__(self: Any, config: dict[str, Any]) -> None:
        group_target = _check_groups_and_retarget(config)
        original(self, config)
        if group_target is not None:
            # moto kept the DefaultCacheBehaviour object it built in self.DefaultCacheBehavior.
            self.DefaultCacheBehavior.target_origin_id = group_target

    __init__._carbonc_plugin = __name__  # type: ignore[attr-defined]
    models.DistributionConfig.__init__ = __init__
