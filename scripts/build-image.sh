#!/usr/bin/env bash
# Builds the McpAuth host's container image with the .NET SDK's container support: no Dockerfile and no Docker daemon.
# The image's settings are in src/Host/McpAuth.Host.csproj (ContainerUser 1654, ContainerPort 8080, McpAuth__BindAddress
# and McpAuth__Port, the chiseled ASP.NET Core base image). Guide: docs/kubernetes.md.
#
#   scripts/build-image.sh                       # writes artifacts/mcpauth-host-<tag>.tar (an OCI image layout in a tar)
#   scripts/build-image.sh --push registry.example.com/mcpauth/mcpauth-host
#                                                # builds and pushes <repository>:<tag> straight to that registry
# Options:
#   --tag TAG        image tag (default: the commit, with -dirty when the work tree has changes)
#   --push REPO      push to REPO (registry host[:port]/path) instead of writing an archive; credentials come from
#                    ~/.docker/config.json (docker/podman login) or DOTNET_CONTAINER_PUSH_REGISTRY_UNAME/_PWORD
#   --base IMAGE     another base image (default: mcr.microsoft.com/dotnet/aspnet:<runtime>-noble-chiseled). The SDK
#                    pulls the base image from its registry; it cannot take one from a local daemon, tarball or layout
#   --archive PATH   where to write the archive (default: artifacts/mcpauth-host-<tag>.tar)
#
# The base image's registry must be reachable from this machine (mcr.microsoft.com by default). An archive can be
# loaded or pushed later: `docker load -i FILE`, `podman load -i FILE`, or `skopeo copy oci-archive:FILE docker://REPO:TAG`.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=""
push=""
base=""
archive=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --push) push="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --archive) archive="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$tag" ]; then
  tag="$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)"
  if [ -n "$(git status --porcelain 2>/dev/null)" ]; then tag="$tag-dirty"; fi
fi

args=(publish src/Host/McpAuth.Host.csproj -c Release -t:PublishContainer -nologo "-p:ContainerImageTag=$tag")
if [ -n "$base" ]; then args+=("-p:ContainerBaseImage=$base"); fi

if [ -n "$push" ]; then
  registry="${push%%/*}"
  repository="${push#*/}"
  if [ "$registry" = "$push" ] || [ -z "$repository" ]; then
    echo "build-image.sh: --push wants registry/repository, e.g. registry.example.com/mcpauth/mcpauth-host" >&2
    exit 2
  fi
  args+=("-p:ContainerRegistry=$registry" "-p:ContainerRepository=$repository")
  dotnet "${args[@]}"
  echo "Pushed $push:$tag. Set it in deploy/kustomization.yaml (images: newName $push, newTag \"$tag\")."
else
  archive="${archive:-artifacts/mcpauth-host-$tag.tar}"
  mkdir -p "$(dirname "$archive")"
  dotnet "${args[@]}" "-p:ContainerArchiveOutputPath=$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")"
  echo "Wrote $archive (mcpauth-host:$tag). Push it, e.g.: skopeo copy oci-archive:$archive docker://<registry>/<repository>:$tag"
fi
