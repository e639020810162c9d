#!/usr/bin/env bash
# Copy a locally built container image to Kubernetes nodes that cannot pull it from a registry.
#
# Usage:
#   scripts/load-image.sh [--remote auto|containerd|docker|podman] [--sudo] IMAGE [user@]HOST...
#       save IMAGE with the local engine and stream it over ssh into each HOST's image store:
#         containerd  ssh HOST ctr -n k8s.io images import -   (kubelet's CRI namespace)
#         docker      ssh HOST docker load                     (cri-dockerd nodes)
#         podman      ssh HOST podman load                     (CRI-O nodes share its storage)
#         auto        (default) the first of ctr, podman, docker found on HOST
#   scripts/load-image.sh --kind CLUSTER IMAGE
#       load IMAGE into every node of the kind cluster CLUSTER (kind load docker-image, or
#       kind load image-archive when the local engine is podman)
#
# Options:
#   --remote R      runtime on the nodes (see above)
#   --sudo          run the remote command with sudo -n (ctr usually needs root)
#   --engine E      local engine, docker or podman (default: docker if its daemon answers, else podman)
#   -h, --help      this text
#
# Examples:
#   scripts/load-image.sh localhost/dpdk-app:0.1.0 root@worker-1 root@worker-2
#   scripts/load-image.sh --sudo localhost/dpdk-app:0.1.0 admin@worker-1
#   scripts/load-image.sh --kind vdpa localhost/dpdk-app:0.1.0
#
# The pods use imagePullPolicy: IfNotPresent, so a loaded image is used as is: load it again
# after every rebuild (or change IMAGE_TAG). The image keeps its full name; use the name the
# manifests use (make print-image).
set -euo pipefail

prog=${0##*/}
usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s\n(see %s --help)\n' "$prog" "$*" "$prog" >&2; exit 2; }
log() { printf '%s: %s\n' "$prog" "$*" >&2; }

remote=auto
sudo=""
engine=${CONTAINER_ENGINE:-}
kind_cluster=""
positional=()
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --remote)
      [ $# -ge 2 ] || usage_error "--remote needs a value: auto, containerd, docker or podman"
      remote=$2; shift 2 ;;
    --remote=*) remote=${1#*=}; shift ;;
    --sudo) sudo="sudo -n"; shift ;;
    --engine)
      [ $# -ge 2 ] || usage_error "--engine needs a value: docker or podman"
      engine=$2; shift 2 ;;
    --engine=*) engine=${1#*=}; shift ;;
    --kind)
      if [ $# -lt 2 ] || [ "${2#-}" != "$2" ]; then
        usage_error "--kind needs the name of a kind cluster (kind get clusters)"
      fi
      kind_cluster=$2; shift 2 ;;
    --kind=*) kind_cluster=${1#*=}; [ -n "$kind_cluster" ] || usage_error "--kind= needs a cluster name"; shift ;;
    --) shift; positional+=("$@"); break ;;
    -*) usage_error "unknown option '$1'" ;;
    *) positional+=("$1"); shift ;;
  esac
done

case $remote in
  auto | containerd | docker | podman) ;;
  *) usage_error "--remote must be auto, containerd, docker or podman, not '$remote'" ;;
esac

if [ ${#positional[@]} -eq 0 ]; then
  if [ -n "$kind_cluster" ]; then usage_error "missing the IMAGE to load into kind cluster '$kind_cluster'"; fi
  usage_error "missing IMAGE and [user@]HOST (or --kind CLUSTER IMAGE)"
fi
image=${positional[0]}
hosts=("${positional[@]:1}")

# An image reference has no '@' before a '/' or ':' (user@host does), and no spaces.
case $image in
  *[[:space:]]*) usage_error "IMAGE '$image' contains whitespace" ;;
esac
if [[ $image == *@* && $image != *@sha256:* ]]; then
  usage_error "the first argument must be the IMAGE, not a host: got '$image' (usage: $prog IMAGE [user@]HOST...)"
fi

if [ -n "$kind_cluster" ]; then
  [ ${#hosts[@]} -eq 0 ] || usage_error "--kind loads into the kind cluster's nodes; do not also give hosts (${hosts[*]})"
elif [ ${#hosts[@]} -eq 0 ]; then
  usage_error "missing the node to load '$image' into: give [user@]HOST (one or more), or --kind CLUSTER"
fi
for h in "${hosts[@]}"; do
  [[ $h =~ ^([A-Za-z0-9._-]+@)?[A-Za-z0-9._:-]+$ ]] ||
    usage_error "'$h' is not [user@]HOST"
done

# Local engine.
if [ -z "$engine" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null 2>&1; then engine=podman
  elif command -v docker >/dev/null 2>&1; then engine=docker
  else die "neither docker nor podman is installed here; build and save the image where one is"
  fi
fi
case ${engine##*/} in
  docker | podman) ;;
  *) usage_error "--engine must be docker or podman, not '$engine'" ;;
esac
command -v "$engine" >/dev/null 2>&1 || die "local engine '$engine' not found in PATH"
"$engine" image inspect "$image" >/dev/null 2>&1 ||
  die "image '$image' is not in the local $engine image store (build it with 'make images'; if $engine cannot reach its daemon, that is the error: run '$engine info')"

if [ -n "$kind_cluster" ]; then
  command -v kind >/dev/null 2>&1 || die "kind not found in PATH"
  kind get clusters 2>/dev/null | grep -qxF "$kind_cluster" ||
    die "no kind cluster named '$kind_cluster' (kind get clusters lists: $(kind get clusters 2>/dev/null | tr '\n' ' '))"
  if [ "${engine##*/}" = docker ]; then
    log "kind load docker-image $image --name $kind_cluster"
    kind load docker-image "$image" --name "$kind_cluster"
  else
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    log "$engine save $image | kind load image-archive --name $kind_cluster"
    "$engine" save -o "$tmp/image.tar" "$image"
    kind load image-archive "$tmp/image.tar" --name "$kind_cluster"
  fi
  exit 0
fi

# The remote command reads a docker-archive tarball on stdin.
remote_command() { # HOST -> command line to run there
  local kind=$remote
  if [ "$kind" = auto ]; then
    # shellcheck disable=SC2029 # evaluated remotely on purpose
    kind=$(ssh -o BatchMode=yes "$1" 'if command -v ctr >/dev/null 2>&1; then echo containerd;
      elif command -v podman >/dev/null 2>&1; then echo podman;
      elif command -v docker >/dev/null 2>&1; then echo docker; fi') ||
      die "$1: ssh failed (check 'ssh $1 true' works without a password prompt)"
    [ -n "$kind" ] || die "$1: found none of ctr, podman, docker; pass --remote"
    log "$1: remote runtime $kind"
  fi
  case $kind in
    containerd) echo "${sudo:+$sudo }ctr -n k8s.io images import -" ;;
    docker) echo "${sudo:+$sudo }docker load" ;;
    podman) echo "${sudo:+$sudo }podman load" ;;
  esac
}

for h in "${hosts[@]}"; do
  cmd=$(remote_command "$h")
  log "$engine save $image | ssh $h $cmd"
  # shellcheck disable=SC2029
  "$engine" save "$image" | ssh -o BatchMode=yes "$h" "$cmd" ||
    die "$h: loading failed (the command on the node was: $cmd)"
done
log "loaded $image into ${hosts[*]}"
