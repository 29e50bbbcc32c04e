"""The k3s cluster's kubeconfig as handed out, from k3s's own (a pure function)."""

from __future__ import annotations

import yaml


def rewrite_kubeconfig(kubeconfig: str, server_url: str, name: str) -> str:
    """Point k3s's admin kubeconfig (server 127.0.0.1) at an address that works from outside,
    and give its cluster, user and context a name of their own."""
    document = yaml.safe_load(kubeconfig)
    for cluster in document.get("clusters", []):
        cluster["cluster"]["server"] = server_url
        cluster["name"] = name
    for user in document.get("users", []):
        user["name"] = name
    for context in document.get("contexts", []):
        context["name"] = name
        context["context"]["cluster"] = name
        context["context"]["user"] = name
    document["current-context"] = name
    return yaml.safe_dump(document, sort_keys=False)
