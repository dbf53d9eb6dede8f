"""checkov checks that exported manifests may fail, each for a reason that depends on the user's
images, health endpoints or traffic graph rather than on the plan. Mirrored in CHECKOV_SKIPS.md.
"""

from __future__ import annotations

CHECKOV_SKIPS: dict[str, str] = {
    "CKV_K8S_43": "Image digest: it exists only once the user builds and pushes the image.",
    "CKV_K8S_8": "Liveness probe: written where the scenario has one; simkit invents no health endpoints.",
    "CKV_K8S_9": "Readiness probe: written where the scenario has one; simkit invents no health endpoints.",
    "CKV2_K8S_6": "NetworkPolicy: who calls whom (queue producers, external callers) is not in the scenario.",
    "CKV_K8S_35": (
        "Secrets as environment variables: kept as the user's manifests give them (secretKeyRef references, "
        "never values); mounting them as files needs a change in the application."
    ),
}

# Failed by a workload only when its export notes say so (`images.KNOWN_IMAGES`): a stock image runs as
# its own user, and Keycloak's root cannot be read-only unless the image is built --optimized.
STOCK_IMAGE_CHECKS: dict[str, str] = {
    "CKV_K8S_40": "High UID: a stock image (postgres, redis, rabbitmq: 999; keycloak: 1000) owns its files.",
    "CKV_K8S_22": "Read-only root: Keycloak re-builds into /opt/keycloak/lib unless built --optimized.",
}
