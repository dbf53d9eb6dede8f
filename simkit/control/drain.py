"""`kubectl drain` as a pure step: cordon, filter, evict (retrying 429s every 5 s), wait for deletion.

Upstream: kubernetes/kubectl pkg/cmd/drain/drain.go (flag defaults: GracePeriodSeconds -1,
EvictErrorRetryDelay 5 s, Timeout 0 = infinite; RunCordonOrUncordon before the drain),
pkg/drain/drain.go (GetPodsForDeletion lists the node's pods ONCE; evictPods: one loop per pod that
retries IsTooManyRequests after EvictErrorRetryDelay, treats NotFound as done, fails on any other
error, and stops at the global timeout with "global timeout reached"; waitForDelete polls every 1 s),
pkg/drain/filters.go (filters in order skipDeleted, daemonSet, mirrorPod, localStorage, unreplicated;
their fatal/warning messages) and pkg/drain/cordon.go. Read at kubectl commit dee3483a (2026-07-22).

The eviction itself is `simkit.control.disruption.evict` (EvictionREST.Create: 200 or 429 with the
upstream messages). Pure: the caller passes `now` (seconds), the pods and the PDBs with their
current status, and gets actions, the new state and the PDBs after the evictions back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from simkit.control.disruption import Pod, PodDisruptionBudget, evict, matching_pdbs

# pkg/cmd/drain/drain.go NewDrainCmdOptions: EvictErrorRetryDelay: 5 * time.Second.
EVICT_ERROR_RETRY_DELAY_S = 5.0
# pkg/drain/drain.go waitForDelete: interval 1 * time.Second.
WAIT_FOR_DELETE_INTERVAL_S = 1.0
# pkg/cmd/drain/drain.go: GracePeriodSeconds -1 (use the pod's terminationGracePeriodSeconds).
DEFAULT_GRACE_PERIOD_S = -1

# pkg/drain/filters.go messages.
DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"

# Reason codes of the decisions.
CORDONED = "Cordoned"
EVICTED = "Evicted"
DELETED = "Deleted"
EVICTION_BLOCKED = "EvictionBlocked"
EVICTION_ERROR = "EvictionError"
SKIPPED = "Skipped"  # mirror pods, ignored DaemonSet pods
WARNING = "Warning"
DRAIN_REFUSED = "DrainRefused"
DRAIN_TIMEOUT = "DrainTimeout"
WAITING_FOR_DELETE = "WaitingForDelete"
DRAINED = "Drained"

PENDING, EVICTING, DONE, FAILED = "Pending", "Evicting", "Drained", "Failed"


@dataclass(frozen=True)
class DrainOptions:
    """`kubectl drain` flags with kubectl's defaults (all off, grace -1, timeout 0 = infinite)."""

    force: bool = False
    ignore_daemonsets: bool = False
    delete_emptydir_data: bool = False
    grace_period_s: int = DEFAULT_GRACE_PERIOD_S
    timeout_s: float = 0.0
    disable_eviction: bool = False
    evict_retry_delay_s: float = EVICT_ERROR_RETRY_DELAY_S
    skip_wait_for_delete_timeout_s: int = 0


@dataclass(frozen=True)
class NodePod:
    """A pod bound to a node, with what the drain filters read beyond `disruption.Pod`.

    `daemonset_exists` is False for an orphaned DaemonSet pod (its DaemonSet is gone).
    """

    pod: Pod
    node: str
    mirror: bool = False  # has the kubernetes.io/config.mirror annotation (static pod)
    local_storage: bool = False  # has an emptyDir volume
    daemonset_exists: bool = True

    @property
    def key(self) -> str:
        return f"{self.pod.namespace}/{self.pod.name}"


@dataclass(frozen=True)
class DrainAction:
    """One decision: kind is cordon | evict | delete | blocked | skip | warn | fail | done | wait."""

    kind: str
    target: str  # node name or namespace/pod
    reason: str
    message: str = ""
    pdb: str | None = None
    grace_period_s: int | None = None


@dataclass(frozen=True)
class DrainState:
    """Where a drain of one node stands. `to_evict` is fixed when the drain lists the pods."""

    node: str
    phase: str = PENDING
    started_at: float | None = None
    to_evict: tuple[str, ...] = ()
    evicted: Mapping[str, float] = field(default_factory=dict)  # key -> time the 200 came back
    retry_at: Mapping[str, float] = field(default_factory=dict)  # key -> next eviction attempt
    last_block: Mapping[str, str] = field(default_factory=dict)  # key -> last 429 message
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class DrainStep:
    actions: tuple[DrainAction, ...]
    state: DrainState
    pdbs: tuple[PodDisruptionBudget, ...]
    reason: str
    wake_at: float | None  # when the next step has something to do (None: finished)


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for whole seconds: 5s, 1m30s, 1h0m0s."""
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h{m}m{sec}s"
    if m:
        return f"{m}m{sec}s"
    return f"{sec}s"


def _is_daemonset_pod(pod: Pod) -> bool:
    ref = next((r for r in pod.owner_references if r.controller), None)
    return ref is not None and ref.kind == "DaemonSet" and ref.api_version == "apps/v1"


def filter_pod(np: NodePod, opts: DrainOptions, now: float) -> tuple[bool, str, str]:
    """`filterPods` with `makeFilters`: (delete?, status Okay|Skip|Warning|Error, message).

    Short-circuits at the first filter that says not to delete, as upstream.
    """
    pod = np.pod
    finished = pod.phase in ("Succeeded", "Failed")
    # skipDeletedFilter
    if (
        opts.skip_wait_for_delete_timeout_s > 0
        and pod.deletion_timestamp is not None
        and int(now - pod.deletion_timestamp) > opts.skip_wait_for_delete_timeout_s
    ):
        return False, "Skip", ""
    status: tuple[bool, str, str] = (True, "Okay", "")
    # daemonSetFilter
    if _is_daemonset_pod(pod) and not finished:
        if not np.daemonset_exists:
            if not opts.force:
                return False, "Error", "daemonsets.apps not found"
            status = (True, "Warning", "daemonsets.apps not found")
        elif not opts.ignore_daemonsets:
            return False, "Error", DAEMONSET_FATAL
        else:
            return False, "Warning", DAEMONSET_WARNING
    # mirrorPodFilter
    if np.mirror:
        return False, "Skip", ""
    # localStorageFilter
    if np.local_storage and not finished:
        if not opts.delete_emptydir_data:
            return False, "Error", LOCAL_STORAGE_FATAL
        status = (True, "Warning", LOCAL_STORAGE_WARNING)
    # unreplicatedFilter
    if not finished and not any(r.controller for r in pod.owner_references):
        if not opts.force:
            return False, "Error", UNMANAGED_FATAL
        status = (True, "Warning", UNMANAGED_WARNING)
    return status


def _list_for_deletion(
    node: str, pods: Sequence[NodePod], opts: DrainOptions, now: float
) -> tuple[list[NodePod], list[DrainAction], list[str]]:
    """`GetPodsForDeletion`: the pods to evict, the skip/warn actions, and the errors
    (`cannot delete <msg>: ns/a, ns/b`, grouped by message like `PodDeleteList.errors`)."""
    chosen: list[NodePod] = []
    notes: list[DrainAction] = []
    failed: dict[str, list[str]] = {}
    for np in sorted((p for p in pods if p.node == node), key=lambda p: p.key):
        delete, status, msg = filter_pod(np, opts, now)
        if status == "Error":
            failed.setdefault(msg or "unexpected error", []).append(np.key)
        elif status == "Skip" or (status == "Warning" and not delete):
            notes.append(DrainAction("skip", np.key, SKIPPED, msg))
        elif status == "Warning":
            notes.append(DrainAction("warn", np.key, WARNING, msg))
        if delete:
            chosen.append(np)
    errors = [f"cannot delete {msg}: {', '.join(keys)}" for msg, keys in failed.items()]
    return chosen, notes, errors


def _replace_pdb(
    pdbs: Sequence[PodDisruptionBudget], new: PodDisruptionBudget
) -> tuple[PodDisruptionBudget, ...]:
    return tuple(new if (p.name, p.namespace) == (new.name, new.namespace) else p for p in pdbs)


def drain_step(
    state: DrainState,
    pods: Sequence[NodePod],
    pdbs: Sequence[PodDisruptionBudget],
    now: float,
    opts: DrainOptions = DrainOptions(),
) -> DrainStep:
    """One pass of `kubectl drain <node>`.

    First call: cordon, list the node's pods through the filters (any error refuses the drain,
    the node stays cordoned, as kubectl cordons first), then evict. Every call: evict each listed
    pod whose retry time has come (NotFound = done; 429 = retry after 5 s; other errors fail the
    drain), check the `--timeout` deadline, and finish when every evicted pod is gone.
    """
    if state.phase in (DONE, FAILED):
        return DrainStep((), state, tuple(pdbs), state.reason, None)
    actions: list[DrainAction] = []
    pdbs = tuple(pdbs)
    if state.phase == PENDING:
        actions.append(DrainAction("cordon", state.node, CORDONED, f"node/{state.node} cordoned"))
        chosen, notes, errors = _list_for_deletion(state.node, pods, opts, now)
        actions.extend(notes)
        if errors:
            msg = "; ".join(errors)
            actions.append(DrainAction("fail", state.node, DRAIN_REFUSED, msg))
            new = replace(state, phase=FAILED, started_at=now, reason=DRAIN_REFUSED, message=msg)
            return DrainStep(tuple(actions), new, pdbs, DRAIN_REFUSED, None)
        state = replace(
            state,
            phase=EVICTING,
            started_at=now,
            to_evict=tuple(np.key for np in chosen),
            retry_at={np.key: now for np in chosen},
        )
    assert state.started_at is not None
    present = {np.key: np for np in pods if np.node == state.node}
    deadline = state.started_at + opts.timeout_s if opts.timeout_s > 0 else None

    evicted = dict(state.evicted)
    retry_at = dict(state.retry_at)
    last_block = dict(state.last_block)
    if deadline is not None and now >= deadline:
        return _timeout(state, present, evicted, last_block, opts, pdbs, actions)
    for key in state.to_evict:
        if key in evicted or key not in retry_at or retry_at[key] > now:
            continue
        np = present.get(key)
        if np is None:  # apierrors.IsNotFound: the pod is already gone
            evicted[key] = now
            retry_at.pop(key)
            continue
        if opts.disable_eviction:
            actions.append(DrainAction("delete", key, DELETED, "", None, _grace(opts)))
            evicted[key] = now
            retry_at.pop(key)
            continue
        result = evict(np.pod, pdbs, now=now)
        if result.outcome == "evicted":
            if result.pdb is not None:
                pdbs = _replace_pdb(pdbs, result.pdb)
            pdb_name = result.pdb.name if result.pdb is not None else None
            actions.append(DrainAction("evict", key, EVICTED, f"evicting pod {key}", pdb_name, _grace(opts)))
            evicted[key] = now
            retry_at.pop(key)
        elif result.http_code == 429:
            ns, name = key.split("/", 1)
            msg = (
                f'error when evicting pods/"{name}" -n "{ns}" (will retry after '
                f"{go_duration(opts.evict_retry_delay_s)}): {result.error_string}"
            )
            pdb_name = result.pdb.name if result.pdb is not None else None
            actions.append(DrainAction("blocked", key, EVICTION_BLOCKED, msg, pdb_name))
            retry_at[key] = now + opts.evict_retry_delay_s
            last_block[key] = msg
        else:
            ns, name = key.split("/", 1)
            msg = f'error when evicting pods/"{name}" -n "{ns}": {result.error_string}'
            pdb_name = result.pdb.name if result.pdb is not None else None
            actions.append(DrainAction("fail", key, EVICTION_ERROR, msg, pdb_name))
            new = replace(
                state, phase=FAILED, evicted=evicted, retry_at=retry_at, reason=EVICTION_ERROR, message=msg
            )
            return DrainStep(tuple(actions), new, pdbs, EVICTION_ERROR, None)

    waiting = [k for k in state.to_evict if k in evicted and k in present]
    pending = [k for k in state.to_evict if k not in evicted]
    state = replace(state, evicted=evicted, retry_at=retry_at, last_block=last_block)
    if not waiting and not pending:
        actions.append(DrainAction("done", state.node, DRAINED, f"node/{state.node} drained"))
        done = replace(state, phase=DONE, reason=DRAINED, message=f"node/{state.node} drained")
        return DrainStep(tuple(actions), done, pdbs, DRAINED, None)
    wakes = [retry_at[k] for k in pending if k in retry_at]
    if waiting:
        wakes.append(now + WAIT_FOR_DELETE_INTERVAL_S)
    if deadline is not None:
        wakes.append(deadline)
    reason = EVICTION_BLOCKED if any(k in last_block for k in pending) else WAITING_FOR_DELETE
    return DrainStep(tuple(actions), state, pdbs, reason, min(wakes) if wakes else None)


def _grace(opts: DrainOptions) -> int | None:
    """`makeDeleteOptions`: a negative --grace-period leaves the pod's own grace period."""
    return opts.grace_period_s if opts.grace_period_s >= 0 else None


def _timeout(
    state: DrainState,
    present: Mapping[str, NodePod],
    evicted: Mapping[str, float],
    last_block: Mapping[str, str],
    opts: DrainOptions,
    pdbs: tuple[PodDisruptionBudget, ...],
    actions: list[DrainAction],
) -> DrainStep:
    """The global `--timeout` ran out: upstream's per-pod errors, aggregated."""
    errs = []
    blocking: str | None = None
    for key in state.to_evict:
        ns, name = key.split("/", 1)
        if key not in evicted:
            errs.append(
                f'error when evicting pods/"{name}" -n "{ns}": global timeout reached: '
                f"{go_duration(opts.timeout_s)}"
            )
            if blocking is None and key in last_block and key in present:
                found = matching_pdbs(present[key].pod, pdbs)
                blocking = found[0].name if found else None
        elif key in present:
            errs.append(
                f'error when waiting for pod "{name}" in namespace "{ns}" to terminate: '
                "context deadline exceeded"
            )
    msg = "; ".join(errs)
    actions.append(DrainAction("fail", state.node, DRAIN_TIMEOUT, msg, blocking))
    new = replace(
        state,
        phase=FAILED,
        evicted=dict(evicted),
        last_block=dict(last_block),
        reason=DRAIN_TIMEOUT,
        message=msg,
    )
    return DrainStep(tuple(actions), new, pdbs, DRAIN_TIMEOUT, None)
