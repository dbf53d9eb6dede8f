"""PodDisruptionBudget status and the eviction API as pure functions.

Upstream: pkg/controller/disruption/disruption.go (DisruptionController.trySync, getExpectedPodCount,
getExpectedScale, the finders, buildDisruptedPodMap, countHealthyPods, updatePdbStatus, failSafe,
nonTerminatingPodHasStaleDisruptionCondition) and pkg/registry/core/pod/storage/eviction.go
(EvictionREST.Create, canIgnorePDB, checkAndDecrement, getPodDisruptionBudgets), policy/v1
semantics (an empty selector selects every pod). Times are seconds; `now` is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from simkit.control.deployment.intstr import IntOrStr, IntOrStringError, scaled_value

# disruption.go: DeletionTimeout; an eviction's disruptedPods entry expires after it.
DELETION_TIMEOUT_S = 120.0
# disruption.go: stalePodDisruptionTimeout (DisruptionTarget conditions older than this are reset).
STALE_POD_DISRUPTION_TIMEOUT_S = 120.0
# eviction.go: MaxDisruptedPodSize.
MAX_DISRUPTED_POD_SIZE = 2000

DISRUPTION_ALLOWED = "DisruptionAllowed"
SUFFICIENT_PODS, INSUFFICIENT_PODS, SYNC_FAILED = "SufficientPods", "InsufficientPods", "SyncFailed"
IF_HEALTHY_BUDGET, ALWAYS_ALLOW = "IfHealthyBudget", "AlwaysAllow"
EVICTION_REJECTED_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE_PDBS_MESSAGE = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
)


# ---------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectorRequirement:
    """A matchExpressions entry: operator In, NotIn, Exists or DoesNotExist."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelSelector:
    """metav1.LabelSelector; empty selects everything (policy/v1)."""

    match_labels: Mapping[str, str] = field(default_factory=dict)
    match_expressions: tuple[SelectorRequirement, ...] = ()


@dataclass(frozen=True)
class OwnerReference:
    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool = False


@dataclass(frozen=True)
class PodCondition:
    type: str
    status: str
    reason: str = ""
    last_transition_time: float | None = None


@dataclass(frozen=True)
class Pod:
    """What the disruption controller and the eviction handler read of a pod."""

    name: str
    namespace: str = "default"
    labels: Mapping[str, str] = field(default_factory=dict)
    phase: str = "Running"
    ready: bool = True
    deletion_timestamp: float | None = None
    owner_references: tuple[OwnerReference, ...] = ()
    conditions: tuple[PodCondition, ...] = ()


@dataclass(frozen=True)
class Workload:
    """A ReplicationController, ReplicaSet, Deployment or StatefulSet with its spec.replicas."""

    kind: str
    name: str
    uid: str
    replicas: int
    namespace: str = "default"
    owner_references: tuple[OwnerReference, ...] = ()


@dataclass(frozen=True)
class ScaleResource:
    """A kind the REST mapper knows with a /scale subresource, and what GET /scale returns."""

    api_version: str
    kind: str
    uid: str
    replicas: int
    name: str | None = None  # None: answers for any name


@dataclass(frozen=True)
class PDBCondition:
    type: str
    status: str
    reason: str
    message: str = ""


@dataclass(frozen=True)
class PDBStatus:
    disruptions_allowed: int = 0
    current_healthy: int = 0
    desired_healthy: int = 0
    expected_pods: int = 0
    disrupted_pods: Mapping[str, float] = field(default_factory=dict)
    observed_generation: int = 0
    conditions: tuple[PDBCondition, ...] = ()

    def condition(self, type_: str) -> PDBCondition | None:
        return next((c for c in self.conditions if c.type == type_), None)


@dataclass(frozen=True)
class PodDisruptionBudget:
    """policy/v1 PodDisruptionBudget: minAvailable or maxUnavailable (IntOrString), selector, policy."""

    name: str
    namespace: str = "default"
    min_available: IntOrStr | None = None
    max_unavailable: IntOrStr | None = None
    selector: LabelSelector | None = field(default_factory=LabelSelector)
    generation: int = 0
    unhealthy_pod_eviction_policy: str | None = None  # None behaves as IfHealthyBudget
    status: PDBStatus = PDBStatus()


# ---------------------------------------------------------------------------------------------
# Label selectors (apimachinery labels.NewRequirement validation, policy/v1 matching)
# ---------------------------------------------------------------------------------------------

_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class SelectorError(ValueError):
    """An invalid label selector (the sync of its PDB fails)."""


def _validate_key(key: str) -> None:
    parts = key.split("/")
    if len(parts) > 2:
        raise SelectorError(f"key: Invalid value: {key!r}: a qualified name must have at most one '/'")
    name = parts[-1]
    if len(parts) == 2 and (not parts[0] or len(parts[0]) > 253 or not _DNS_SUBDOMAIN.match(parts[0])):
        raise SelectorError(f"key: Invalid value: {key!r}: prefix must be a DNS-1123 subdomain")
    if not name or len(name) > 63 or not _NAME.match(name):
        raise SelectorError(f"key: Invalid value: {key!r}: name part must be a valid qualified name")


def _validate_value(value: str) -> None:
    if value and (len(value) > 63 or not _NAME.match(value)):
        raise SelectorError(f"values: Invalid value: {value!r}: a valid label must be 63 characters or less")


def validate_selector(selector: LabelSelector) -> None:
    """`metav1.LabelSelectorAsSelector` validation; raises SelectorError."""
    for key, value in selector.match_labels.items():
        _validate_key(key)
        _validate_value(value)
    for req in selector.match_expressions:
        _validate_key(req.key)
        if req.operator in ("In", "NotIn"):
            if not req.values:
                raise SelectorError(
                    "values: Invalid value: for 'in', 'notin' operators, values set can't be empty"
                )
        elif req.operator in ("Exists", "DoesNotExist"):
            if req.values:
                raise SelectorError(
                    "values: Invalid value: values set must be empty for exists and does not exist"
                )
        else:
            raise SelectorError(f'"{req.operator}" is not a valid label selector operator')
        for v in req.values:
            _validate_value(v)


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether a (valid) selector selects these labels; an empty selector selects everything."""
    if any(labels.get(k) != v for k, v in selector.match_labels.items()):
        return False
    for req in selector.match_expressions:
        present = req.key in labels
        if req.operator == "In" and not (present and labels[req.key] in req.values):
            return False
        if req.operator == "NotIn" and present and labels[req.key] in req.values:
            return False
        if req.operator == "Exists" and not present:
            return False
        if req.operator == "DoesNotExist" and present:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Controller lookup (the finders of disruption.go)
# ---------------------------------------------------------------------------------------------


class ControllerLookupError(RuntimeError):
    """A controller lookup error (unparsable apiVersion, a kind the REST mapper does not know)."""


def _group(api_version: str) -> str:
    """`schema.ParseGroupVersion(...).Group`: "v1" and "/v1" are the core group ""."""
    if api_version.count("/") > 1:
        raise ControllerLookupError(f"unexpected GroupVersion string: {api_version}")
    return api_version.split("/")[0] if "/" in api_version else ""


def _controller_of(refs: Sequence[OwnerReference]) -> OwnerReference | None:
    """`metav1.GetControllerOf`: the first owner reference with controller=true."""
    return next((r for r in refs if r.controller), None)


def _verify(ref: OwnerReference, kind: str, groups: Sequence[str]) -> bool:
    group = _group(ref.api_version)
    return ref.kind == kind and group in groups


def _get(workloads: Sequence[Workload], kind: str, name: str, namespace: str) -> Workload | None:
    return next(
        (w for w in workloads if w.kind == kind and w.name == name and w.namespace == namespace), None
    )


@dataclass(frozen=True)
class ControllerScale:
    uid: str
    scale: int


def find_controller_scale(
    finder: str,
    ref: OwnerReference,
    workloads: Sequence[Workload],
    namespace: str = "default",
    scale_resources: Sequence[ScaleResource] = (),
) -> ControllerScale | None:
    """One finder of disruption.go: getPodReplicationController, getPodDeployment, getPodReplicaSet,
    getPodStatefulSet or getScaleController. Name lookup, then the UID must match."""
    if finder == "ReplicationController":
        if not _verify(ref, "ReplicationController", [""]):
            return None
        w = _get(workloads, "ReplicationController", ref.name, namespace)
        return ControllerScale(w.uid, w.replicas) if w and w.uid == ref.uid else None
    if finder in ("Deployment", "ReplicaSet"):
        if not _verify(ref, "ReplicaSet", ["apps", "extensions"]):
            return None
        rs = _get(workloads, "ReplicaSet", ref.name, namespace)
        if rs is None or rs.uid != ref.uid:
            return None
        owner = _controller_of(rs.owner_references)
        if finder == "ReplicaSet":
            # A ReplicaSet owned by a Deployment counts through its Deployment.
            return (
                None
                if owner is not None and owner.kind == "Deployment"
                else ControllerScale(rs.uid, rs.replicas)
            )
        if owner is None or not _verify(owner, "Deployment", ["apps", "extensions"]):
            return None
        dep = _get(workloads, "Deployment", owner.name, namespace)
        return ControllerScale(dep.uid, dep.replicas) if dep and dep.uid == owner.uid else None
    if finder == "StatefulSet":
        if not _verify(ref, "StatefulSet", ["apps"]):
            return None
        ss = _get(workloads, "StatefulSet", ref.name, namespace)
        return ControllerScale(ss.uid, ss.replicas) if ss and ss.uid == ref.uid else None
    if finder == "Scale":
        group = _group(ref.api_version)
        known = [s for s in scale_resources if _group(s.api_version) == group and s.kind == ref.kind]
        if not known:
            raise ControllerLookupError(f'no matches for kind "{ref.kind}" in group "{group}"')
        found = next((s for s in known if s.name is None or s.name == ref.name), None)
        return ControllerScale(found.uid, found.replicas) if found and found.uid == ref.uid else None
    raise ValueError(f"unknown finder {finder}")


FINDERS = ("ReplicationController", "Deployment", "ReplicaSet", "StatefulSet", "Scale")


def expected_scale(
    pods: Sequence[Pod],
    workloads: Sequence[Workload],
    scale_resources: Sequence[ScaleResource],
    namespace: str,
) -> tuple[int, tuple[str, ...]]:
    """`getExpectedScale`: Σ scale of the distinct controllers of the pods, and the unmanaged pods.

    Raises ControllerLookupError when a pod's controller is not found by any finder.
    """
    scales: dict[str, int] = {}
    unmanaged: list[str] = []
    for pod in pods:
        ref = _controller_of(pod.owner_references)
        if ref is None:
            unmanaged.append(pod.name)
            continue
        if ref.uid in scales:
            continue
        for finder in FINDERS:
            found = find_controller_scale(finder, ref, workloads, namespace, scale_resources)
            if found is not None:
                scales[found.uid] = found.scale
                break
        else:
            raise ControllerLookupError(f'found no controllers for pod "{pod.name}"')
    return sum(scales.values()), tuple(unmanaged)


# ---------------------------------------------------------------------------------------------
# PDB status (DisruptionController.sync / trySync)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PDBSyncResult:
    """The PDB with its new status; why; the unmanaged pods; when to re-check (an entry expiring)."""

    pdb: PodDisruptionBudget
    reason: str  # SufficientPods | InsufficientPods | SyncFailed
    sync_failed: bool = False
    error: str | None = None
    unmanaged_pods: tuple[str, ...] = ()
    recheck_after: float | None = None


def _allowed_condition(allowed: int) -> PDBCondition:
    """`pdbhelper.UpdateDisruptionAllowedCondition`."""
    if allowed > 0:
        return PDBCondition(DISRUPTION_ALLOWED, "True", SUFFICIENT_PODS)
    return PDBCondition(DISRUPTION_ALLOWED, "False", INSUFFICIENT_PODS)


def _with_condition(conditions: Sequence[PDBCondition], cond: PDBCondition) -> tuple[PDBCondition, ...]:
    return (*(c for c in conditions if c.type != cond.type), cond)


def pdb_status(
    pdb: PodDisruptionBudget,
    pods: Sequence[Pod],
    workloads: Sequence[Workload] = (),
    scale_resources: Sequence[ScaleResource] = (),
    *,
    now: float,
) -> PDBSyncResult:
    """`DisruptionController.sync`: currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed.

    Integer minAvailable: desired = minAvailable, expected = the selected pods. Percent minAvailable
    or any maxUnavailable: expected = Σ controller scale; percents round UP (maxUnavailable too).
    disruptionsAllowed = max(0, healthy - desired), 0 while expected <= 0. A failed sync keeps the
    old status with disruptionsAllowed 0 and DisruptionAllowed=False/SyncFailed (failSafe).
    """
    try:
        if pdb.selector is None:
            selected: list[Pod] = []  # a nil selector selects nothing
        else:
            validate_selector(pdb.selector)
            sel = pdb.selector
            selected = [p for p in pods if p.namespace == pdb.namespace and selector_matches(sel, p.labels)]
        expected, desired = 0, 0
        unmanaged: tuple[str, ...] = ()
        if pdb.max_unavailable is not None:
            expected, unmanaged = expected_scale(selected, workloads, scale_resources, pdb.namespace)
            desired = max(0, expected - scaled_value(pdb.max_unavailable, expected, True))
        elif pdb.min_available is not None:
            if isinstance(pdb.min_available, int):
                desired, expected = pdb.min_available, len(selected)
            else:
                expected, unmanaged = expected_scale(selected, workloads, scale_resources, pdb.namespace)
                desired = scaled_value(pdb.min_available, expected, True)
    except (SelectorError, ControllerLookupError, IntOrStringError) as exc:
        status = replace(
            pdb.status,
            disruptions_allowed=0,
            conditions=_with_condition(
                pdb.status.conditions, PDBCondition(DISRUPTION_ALLOWED, "False", SYNC_FAILED, str(exc))
            ),
        )
        return PDBSyncResult(replace(pdb, status=status), SYNC_FAILED, True, str(exc))

    disrupted, recheck = _disrupted_pod_map(selected, pdb.status.disrupted_pods, now)
    healthy = _count_healthy(selected, disrupted, now)
    allowed = healthy - desired
    if expected <= 0 or allowed <= 0:
        allowed = 0
    cond = _allowed_condition(allowed)
    status = PDBStatus(
        disruptions_allowed=allowed,
        current_healthy=healthy,
        desired_healthy=desired,
        expected_pods=expected,
        disrupted_pods=disrupted,
        observed_generation=pdb.generation,
        conditions=_with_condition(pdb.status.conditions, cond),
    )
    return PDBSyncResult(replace(pdb, status=status), cond.reason, False, None, unmanaged, recheck)


def _disrupted_pod_map(
    pods: Sequence[Pod], disrupted: Mapping[str, float], now: float
) -> tuple[dict[str, float], float | None]:
    """`buildDisruptedPodMap`: keep entries of selected, not-deleting pods until t + 120 s < now."""
    kept: dict[str, float] = {}
    recheck: float | None = None
    for pod in pods:
        if pod.deletion_timestamp is not None or pod.name not in disrupted:
            continue
        t = disrupted[pod.name]
        expires = t + DELETION_TIMEOUT_S
        if expires < now:
            continue  # upstream: event NotDeleted, the pod counts again
        kept[pod.name] = t
        recheck = expires - now if recheck is None else min(recheck, expires - now)
    return kept, recheck


def _count_healthy(pods: Sequence[Pod], disrupted: Mapping[str, float], now: float) -> int:
    """`countHealthyPods`: ready, not deleting, and not about to be deleted by an eviction."""
    count = 0
    for pod in pods:
        if pod.deletion_timestamp is not None:
            continue
        if pod.name in disrupted and disrupted[pod.name] + DELETION_TIMEOUT_S > now:
            continue
        if pod.ready:
            count += 1
    return count


def stale_disruption_condition(
    pod: Pod, now: float, timeout_s: float = STALE_POD_DISRUPTION_TIMEOUT_S
) -> tuple[Pod, float | None]:
    """`syncStalePodDisruption`: reset a stale DisruptionTarget=True condition to False.

    Stale: no deletionTimestamp, True, not added by the kubelet, the pod not terminal. Returns the pod
    and, while the condition is not yet old enough, the seconds until it is.
    """
    cond = next((c for c in pod.conditions if c.type == "DisruptionTarget"), None)
    if (
        pod.deletion_timestamp is not None
        or cond is None
        or cond.status != "True"
        or cond.reason == "TerminationByKubelet"
        or pod.phase in ("Succeeded", "Failed")
    ):
        return pod, None
    since = cond.last_transition_time if cond.last_transition_time is not None else float("-inf")
    wait = max(0.0, timeout_s - (now - since))
    if wait > 0:
        return pod, wait
    reset = PodCondition("DisruptionTarget", "False", "", now)
    return replace(pod, conditions=tuple(reset if c is cond else c for c in pod.conditions)), None


# ---------------------------------------------------------------------------------------------
# The eviction API (EvictionREST.Create)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvictionResult:
    """The response to a POST .../pods/<name>/eviction.

    `outcome` is evicted | rejected (429) | error; `code` is simkit's reason code for the decision;
    `pdb` is the matching PDB after the call (decremented on success), None when none matched.
    """

    outcome: str
    http_code: int
    code: str
    status_reason: str = ""
    message: str = ""
    causes: tuple[str, ...] = ()
    pdb: PodDisruptionBudget | None = None
    delete_calls: int = 0

    @property
    def error_string(self) -> str:
        """`<message>: <reason>[: <cause>...]`, the Go test's rendering of an API StatusError."""
        if self.outcome == "evicted":
            return ""
        parts = [self.message, *([self.status_reason] if self.status_reason else []), *self.causes]
        return ": ".join(parts)


def matching_pdbs(pod: Pod, pdbs: Sequence[PodDisruptionBudget]) -> list[PodDisruptionBudget]:
    """`getPodDisruptionBudgets`: PDBs of the pod's namespace whose valid selector selects it."""
    out = []
    for pdb in pdbs:
        if pdb.namespace != pod.namespace or pdb.selector is None:
            continue
        try:
            validate_selector(pdb.selector)
        except SelectorError:
            continue
        if selector_matches(pdb.selector, pod.labels):
            out.append(pdb)
    return out


def evict(
    pod: Pod,
    pdbs: Sequence[PodDisruptionBudget],
    *,
    now: float,
    eviction_name: str | None = None,
    url_name: str | None = None,
    dry_run: bool = False,
) -> EvictionResult:
    """`EvictionREST.Create`: 200 and delete, or 429 with the upstream messages.

    Terminal, Pending and deleting pods go without a PDB check. An unready pod skips the budget
    under AlwaysAllow, or under IfHealthyBudget/nil when currentHealthy >= desiredHealthy > 0.
    Otherwise the PDB must be observed and allow a disruption, which is taken (the condition turns
    False/InsufficientPods at 0) and the pod recorded in disruptedPods at `now` (not on dry run).
    """
    eviction_name = pod.name if eviction_name is None else eviction_name
    url_name = eviction_name if url_name is None else url_name
    if url_name != eviction_name:
        return EvictionResult(
            "error", 400, "NameMismatch", "BadRequest", "name in URL does not match name in Eviction object"
        )
    if pod.phase in ("Succeeded", "Failed", "Pending") or pod.deletion_timestamp is not None:
        return EvictionResult("evicted", 200, "PDBIgnored", delete_calls=1)
    matched = matching_pdbs(pod, pdbs)
    if len(matched) > 1:
        return EvictionResult(
            "error",
            500,
            "MultiplePDBs",
            "",
            MULTIPLE_PDBS_MESSAGE,
        )
    if not matched:
        return EvictionResult("evicted", 200, "NoPDB", delete_calls=1)
    pdb = matched[0]
    st = pdb.status
    if not pod.ready:
        if pdb.unhealthy_pod_eviction_policy == ALWAYS_ALLOW:
            return EvictionResult("evicted", 200, "UnhealthyPodAlwaysAllow", pdb=pdb, delete_calls=1)
        if st.current_healthy >= st.desired_healthy and st.desired_healthy > 0:
            return EvictionResult("evicted", 200, "UnhealthyPodHealthyBudget", pdb=pdb, delete_calls=1)
    if st.observed_generation < pdb.generation:
        cause = f"The disruption budget {pdb.name} is still being processed by the server."
        return EvictionResult(
            "rejected", 429, "PDBNotObserved", "TooManyRequests", EVICTION_REJECTED_MESSAGE, (cause,), pdb
        )
    forbidden = f'poddisruptionbudget.policy "{pdb.name}" is forbidden: '
    if st.disruptions_allowed < 0:
        msg = forbidden + "pdb disruptions allowed is negative"
        return EvictionResult("error", 403, "NegativeBudget", "Forbidden", msg, (), pdb)
    if len(st.disrupted_pods) > MAX_DISRUPTED_POD_SIZE:
        msg = forbidden + "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
        return EvictionResult("error", 403, "TooManyDisruptedPods", "Forbidden", msg, (), pdb)
    if st.disruptions_allowed == 0:
        cause = (
            f"The disruption budget {pdb.name} needs {st.desired_healthy} healthy pods "
            f"and has {st.current_healthy} currently"
        )
        return EvictionResult(
            "rejected",
            429,
            "NoDisruptionsAllowed",
            "TooManyRequests",
            EVICTION_REJECTED_MESSAGE,
            (cause,),
            pdb,
        )
    if dry_run:
        return EvictionResult("evicted", 200, "BudgetDecremented", pdb=pdb, delete_calls=1)
    allowed = st.disruptions_allowed - 1
    conditions = st.conditions
    if allowed == 0:
        conditions = _with_condition(conditions, _allowed_condition(0))
    new_status = replace(
        st,
        disruptions_allowed=allowed,
        conditions=conditions,
        disrupted_pods={**st.disrupted_pods, pod.name: now},
    )
    return EvictionResult(
        "evicted", 200, "BudgetDecremented", pdb=replace(pdb, status=new_status), delete_calls=1
    )
