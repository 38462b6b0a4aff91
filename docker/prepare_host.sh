#!/usr/bin/env bash
# Prepares a Debian host without a Docker engine to build docker/Dockerfile with
# podman, offline from any container registry:
#   1. installs podman, buildah, runc and debootstrap (Debian packages);
#   2. selects docker/containers.conf (runc, cgroupfs, explicit ulimits) with
#      CONTAINERS_CONF, as build.sh and run_tests.sh do;
#   3. builds the base image debian:bookworm with debootstrap from the Debian
#      mirror and imports it, tagged docker.io/library/debian:bookworm so that
#      `FROM debian:bookworm` resolves locally.
# Idempotent: every step is skipped when its result already exists. Needs root.
#
#   docker/prepare_host.sh            # uses $DEBIAN_MIRROR or deb.debian.org
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE="docker.io/library/debian:bookworm"

if [[ "$(id -u)" != 0 ]]; then
  echo "prepare_host.sh: must run as root (debootstrap and rootful podman)" >&2
  exit 1
fi

missing=()
for tool in podman buildah runc debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "prepare_host.sh: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman buildah runc debootstrap
fi

export CONTAINERS_CONF="$HERE/containers.conf"

if podman image exists "$BASE_IMAGE"; then
  echo "prepare_host.sh: base image $BASE_IMAGE already present"
else
  rootfs="$(mktemp -d /var/tmp/envlogger-rootfs.XXXXXX)"
  trap 'rm -rf "$rootfs"' EXIT
  echo "prepare_host.sh: debootstrap bookworm from $MIRROR (about a minute)"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
  tar -C "$rootfs" -c . | podman import - localhost/debian:bookworm
  podman tag localhost/debian:bookworm "$BASE_IMAGE"
fi
echo "prepare_host.sh: ready (CONTAINERS_CONF=$CONTAINERS_CONF)"
