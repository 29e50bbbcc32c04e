"""The order in which the Pulumi engine replaces and deletes resources, planned from what a
program registered under mocks (`RecordingMocks`: dependencies, property dependencies and the
options `deleteBeforeReplace`, `deletedWith`, `replaceOnChanges`, `ignoreChanges`).

A model of the engine's documented rules, not the engine: pulumi/pulumi
pkg/resource/deploy/step_generator.go (commit 1b5949891b3c, August 2026) and the resource option
pages (pulumi.com/docs/iac/concepts/options/deletebeforereplace, .../deletedwith):

- a resource is replaced when it is the one that changes, when an input that forces replacement
  (the provider schema's replace-on-change inputs, or the resource's own `replaceOnChanges`)
  takes its value from a replaced resource, or when it is `deletedWith` a replaced resource
  (`calculateDependentReplacements`, `findDependentCascadeReplacements`);
- create-before-delete (the default): the replacement is created when the resource registers,
  and every replaced old resource is deleted at the end of the update, in reverse dependency
  order;
- delete-before-replace: when such a resource registers, the replaced resources that depend on
  it are deleted first (reverse dependency order), then the resource itself; it is then
  created, and its dependents are created as they register;
- a delete is skipped (the provider is not called) when the resource is `deletedWith` a resource
  deleted in the same operation (step.go, `isDeletedWith`);
- `pulumi destroy` deletes every resource in reverse dependency order, with the same skip.

Registration order under the mocks is a dependency order (a resource registers only after the
resources its inputs and `depends_on` name), which is what the engine's snapshot order is too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from support.pulumi_mocks import RecordingMocks

#: Inputs a provider replaces the resource for (its schema's replaceOnChanges), for the types
#: whose replacement the plans follow. pulumi-command v1.2.1,
#: provider/pkg/provider/common/inputs.go: `Triggers ... provider:"replaceOnChanges"` (stdin,
#: create, delete and connection changes are updates).
PROVIDER_REPLACE_KEYS: dict[str, frozenset[str]] = {
    "command:remote:Command": frozenset({"triggers"}),
}


@dataclass(frozen=True)
class Step:
    op: Literal["create", "delete"]
    name: str
    #: A delete the engine skips because the resource is deleted with another one deleted in
    #: the same operation (a remote command's delete command is then not run at all).
    skipped: bool = False


class Plan(list[Step]):
    """Steps in execution order."""

    def index_of(self, op: str, name: str) -> int:
        found = [i for i, step in enumerate(self) if step.op == op and step.name == name]
        assert len(found) == 1, f"expected one {op} of {name}, got {len(found)}"
        return found[0]

    def deleted(self, name: str) -> Step:
        return self[self.index_of("delete", name)]


class Planner:
    def __init__(self, mocks: RecordingMocks) -> None:
        self.mocks = mocks
        self.order = list(mocks.order)
        self.types = {r.name: r.typ for r in mocks.resources}

    def _forces_replacement(self, name: str, replaced: set[str]) -> bool:
        options = self.mocks.options[name]
        if not options.custom:
            return False
        if options.deleted_with in replaced:
            return True
        keys = PROVIDER_REPLACE_KEYS.get(self.types.get(name, ""), frozenset()) | set(
            options.replace_on_changes
        )
        return any(
            options.property_dependencies.get(key, frozenset()) & replaced
            for key in keys - set(options.ignore_changes)
        )

    def replaced_with(self, root: str) -> list[str]:
        """Every resource replaced when `root` is, in registration order."""
        replaced = {root}
        for name in self.dependents(root):
            if self._forces_replacement(name, replaced):
                replaced.add(name)
        return [name for name in self.order if name in replaced]

    def _edges(self, name: str) -> set[str]:
        """What `name` depends on, as the engine's dependency graph sees it (dependencies,
        property dependencies, deletedWith; dependency_graph.go, DependingOn)."""
        options = self.mocks.options[name]
        edges = set(self.mocks.dependencies.get(name, ()))
        for sources in options.property_dependencies.values():
            edges |= sources
        if options.deleted_with:
            edges.add(options.deleted_with)
        if name in self.mocks.providers:
            edges.add(self.mocks.providers[name])
        return edges

    def dependents(self, root: str) -> list[str]:
        """Every resource that depends on `root`, directly or not, in registration order."""
        found = {root}
        for name in self.order[self.order.index(root) + 1 :]:
            if self._edges(name) & found:
                found.add(name)
        return [name for name in self.order if name in found and name != root]

    def _delete(self, names: Iterable[str], deleted: set[str]) -> list[Step]:
        return [
            Step("delete", name, skipped=self.mocks.options[name].deleted_with in deleted)
            for name in names
        ]

    def replace(self, root: str) -> Plan:
        """The steps of an update in which `root` must be replaced."""
        replaced = self.replaced_with(root)
        # Every delete of this update is known before any runs (the engine marks them when it
        # generates the steps), so a delete's skip depends on all of them.
        deleted = set(replaced)
        plan = Plan()
        gone: set[str] = set()
        condemned: list[str] = []
        for name in replaced:
            if name in gone:
                plan.append(Step("create", name))
            elif self.mocks.options[name].delete_before_replace:
                dependents = [d for d in self.dependents(name) if d in deleted and d not in gone]
                plan += self._delete([*reversed(dependents), name], deleted)
                gone |= {*dependents, name}
                plan.append(Step("create", name))
            else:
                plan.append(Step("create", name))
                condemned.append(name)
        plan += self._delete(reversed(condemned), deleted)
        return plan

    def delete(self, names: Iterable[str]) -> Plan:
        """The steps of an update that no longer registers `names` (or of `pulumi destroy`,
        with every name): deletes in reverse dependency order."""
        doomed = set(names)
        return Plan(self._delete([n for n in reversed(self.order) if n in doomed], doomed))

    def destroy(self) -> Plan:
        return self.delete(self.order)
