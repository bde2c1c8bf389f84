"""The golden store as its callers see it: one object whose methods are the store's
narrow API, each part kept in a module of its own job."""

from __future__ import annotations

from golden_record.golden.store.applying import NightApplying
from golden_record.golden.store.erasure import ErasureRecords
from golden_record.golden.store.person import PersonRecords
from golden_record.golden.store.rectifications import Rectifications
from golden_record.golden.store.requests import RightsRequests
from golden_record.golden.store.restrictions import Restrictions
from golden_record.golden.store.run_folders import RunFolders
from golden_record.golden.store.stewards import StewardRecords


class GoldenStore(
    NightApplying,
    StewardRecords,
    RightsRequests,
    Rectifications,
    Restrictions,
    ErasureRecords,
    PersonRecords,
    RunFolders,
):
    """The golden store: read it (:class:`~.reading.StoreReading`), apply nights to it
    and take them back (:class:`~.applying.NightApplying`), and keep what stewards and
    residents' rights change (decisions and acceptances, requests, corrections,
    restrictions, erasures) and where each run keeps its files. Only these modules write
    SQL against its tables."""
