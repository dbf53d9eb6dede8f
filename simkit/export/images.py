"""Known container images: the ports they listen on, the UID they run as and the paths they write, so
an export runs under the stock image instead of a web-app default (port 8080, UID 10001, read-only /).

Each row names where its facts come from. Only the official Debian/Ubuntu-based variants are listed:
Alpine variants create their users with other UIDs, so an `-alpine` tag is treated as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from simkit.scenario.model import Workload


@dataclass(frozen=True)
class KnownImage:
    """What a stock image needs to run."""

    repository: str  # normalised: no docker.io/, no library/, no tag
    default_tag: str  # used only when the image is chosen from the workload's name
    ports: tuple[tuple[str, int], ...]  # (name, containerPort); the first is the Service's
    uid: int  # the image's own user; it owns the image's directories
    data_path: str | None  # where a declared volume is mounted
    writable: tuple[str, ...]  # paths written at run time besides data_path: emptyDir
    read_only_root: bool  # whether the image runs with readOnlyRootFilesystem
    source: str
    names: tuple[str, ...] = ()  # workload names that mean this image when none is given
    note: str = ""  # why the restricted settings cannot all hold, if they cannot
    env: tuple[tuple[str, str], ...] = ()  # set unless the workload sets them

    @property
    def image(self) -> str:
        return f"{self.repository}:{self.default_tag}"


KNOWN_IMAGES: tuple[KnownImage, ...] = (
    KnownImage(
        repository="postgres",
        default_tag="17",
        ports=(("postgres", 5432),),
        uid=999,
        data_path="/var/lib/postgresql/data",
        writable=("/var/run/postgresql", "/tmp"),
        read_only_root=True,
        source=(
            "https://github.com/docker-library/postgres/blob/master/17/bookworm/Dockerfile "
            "(useradd --uid=999 postgres; /var/run/postgresql; VOLUME /var/lib/postgresql/data; "
            "EXPOSE 5432), "
            "https://hub.docker.com/_/postgres (Arbitrary --user Notes)"
        ),
        names=("postgres", "postgresql"),
        # a fresh volume holds lost+found, which initdb refuses: PGDATA goes one level down (Hub page, PGDATA)
        env=(("PGDATA", "/var/lib/postgresql/data/pgdata"),),
    ),
    KnownImage(
        repository="redis",
        default_tag="7",
        ports=(("redis", 6379),),
        uid=999,
        data_path="/data",
        writable=("/tmp",),
        read_only_root=True,
        source=(
            "https://hub.docker.com/_/redis image history (groupadd -r -g 999 redis && useradd -r -g redis "
            "-u 999 redis; VOLUME /data; EXPOSE 6379)"
        ),
        names=("redis",),
    ),
    KnownImage(
        repository="rabbitmq",
        default_tag="3.13",
        ports=(("amqp", 5672), ("prometheus", 15692)),
        uid=999,
        data_path="/var/lib/rabbitmq",
        writable=("/var/log/rabbitmq", "/tmp"),
        read_only_root=True,
        source=(
            "https://github.com/docker-library/rabbitmq/blob/master/3.13/ubuntu/Dockerfile "
            "(useradd --uid 999 rabbitmq; VOLUME /var/lib/rabbitmq; rabbitmq_prometheus enabled; "
            "EXPOSE 5672 15692)"
        ),
        names=("rabbitmq",),
    ),
    KnownImage(
        repository="quay.io/keycloak/keycloak",
        default_tag="26.0",
        ports=(("http", 8080),),
        uid=1000,
        data_path=None,
        writable=("/opt/keycloak/data", "/tmp"),
        read_only_root=False,
        source=(
            "https://www.keycloak.org/server/containers and keycloak/keycloak quarkus/container/Dockerfile "
            "(USER 1000; EXPOSE 8080)"
        ),
        names=("keycloak",),
        note=(
            "readOnlyRootFilesystem is false: `kc.sh start` without --optimized re-builds into "
            "/opt/keycloak/lib; build an optimized image to make the root read-only"
        ),
    ),
)

_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/", "library/")


def split_image(ref: str) -> tuple[str, str]:
    """(repository without Docker Hub prefixes, tag or digest) of an image reference."""
    name, _, digest = ref.partition("@")
    repo, tag = name, ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = name.rpartition(":")
    for prefix in _PREFIXES:
        if repo.startswith(prefix):
            repo = repo[len(prefix) :]
            break
    return repo, digest or tag


def known_image(w: Workload) -> tuple[KnownImage | None, str]:
    """The table row for the workload's image (or, without an image, its name) and how it was found."""
    if w.image:
        repo, tag = split_image(w.image)
        for row in KNOWN_IMAGES:
            if row.repository == repo:
                if "alpine" in tag:
                    return None, f"image {w.image}: Alpine variants run as other UIDs, not in the table"
                return row, f"image {w.image}"
        return None, f"image {w.image}"
    for row in KNOWN_IMAGES:
        if w.name in row.names:
            return row, f"image {row.image} chosen from the workload name {w.name!r}; set `image` to pin it"
    return None, ""
