"""Nomad's job API, as far as the tests check job bodies: the JSON field names of its api
structs, so a mistyped field fails a test instead of being dropped by Nomad."""

from __future__ import annotations

from typing import Any

# JSON field names of Nomad's api structs at v1.11.3 (hashicorp/nomad api/jobs.go, tasks.go,
# resources.go, services.go), for the structs the job uses.
NOMAD_FIELDS: dict[str, set[str]] = {
    "Job": {
        "Region", "Namespace", "ID", "Name", "Type", "Priority", "AllAtOnce", "Datacenters",
        "NodePool", "Constraints", "Affinities", "TaskGroups", "Update", "Multiregion",
        "Spreads", "Periodic", "ParameterizedJob", "Reschedule", "Migrate", "Meta", "UI",
        "Stop", "ParentID", "Dispatched", "DispatchIdempotencyToken", "Payload",
        "ConsulNamespace", "VaultNamespace", "NomadTokenID", "Status", "StatusDescription",
        "Stable", "Version", "SubmitTime", "CreateIndex", "ModifyIndex", "JobModifyIndex",
        "VersionTag",
    },
    "TaskGroup": {
        "Name", "Count", "Constraints", "Affinities", "Tasks", "Spreads", "Volumes",
        "RestartPolicy", "Disconnect", "ReschedulePolicy", "EphemeralDisk", "Update", "Migrate",
        "Networks", "Meta", "Services", "ShutdownDelay", "StopAfterClientDisconnect",
        "MaxClientDisconnect", "Scaling", "Consul", "PreventRescheduleOnLost",
    },
    "Task": {
        "Name", "Driver", "User", "Lifecycle", "Config", "Constraints", "Affinities", "Env",
        "Services", "Resources", "RestartPolicy", "Meta", "KillTimeout", "LogConfig",
        "Artifacts", "Vault", "Consul", "Templates", "DispatchPayload", "VolumeMounts",
        "CSIPluginConfig", "Leader", "ShutdownDelay", "KillSignal", "Kind", "ScalingPolicies",
        "Secrets", "Identity", "Identities", "Actions", "Schedule",
    },
    "Template": {
        "SourcePath", "DestPath", "EmbeddedTmpl", "ChangeMode", "ChangeScript", "ChangeSignal",
        "Once", "Splay", "Perms", "Uid", "Gid", "LeftDelim", "RightDelim", "Envvars",
        "VaultGrace", "Wait", "ErrMissingKey",
    },
    "Resources": {
        "CPU", "Cores", "MemoryMB", "MemoryMaxMB", "DiskMB", "Networks", "Devices", "NUMA",
        "SecretsMB", "IOPS",
    },
    "NetworkResource": {
        "Mode", "Device", "CIDR", "IP", "DNS", "ReservedPorts", "DynamicPorts", "Hostname",
        "MBits", "CNI",
    },
    "Port": {"Label", "Value", "To", "HostNetwork", "IgnoreCollision"},
    "Service": {
        "Name", "Tags", "CanaryTags", "EnableTagOverride", "PortLabel", "AddressMode",
        "Address", "Checks", "CheckRestart", "Connect", "Meta", "CanaryMeta", "TaggedAddresses",
        "TaskName", "OnUpdate", "Identity", "Weights", "Provider", "Cluster", "Kind",
    },
    "ServiceCheck": {
        "Name", "Type", "Command", "Args", "Path", "Protocol", "PortLabel", "Expose",
        "AddressMode", "Advertise", "Interval", "Timeout", "InitialStatus", "Notes",
        "TLSServerName", "TLSSkipVerify", "Header", "Method", "CheckRestart", "GRPCService",
        "GRPCUseTLS", "TaskName", "SuccessBeforePassing", "FailuresBeforeCritical",
        "FailuresBeforeWarning", "Body", "OnUpdate",
    },
    "RestartPolicy": {"Interval", "Attempts", "Delay", "Mode", "RenderTemplates"},
    "Constraint": {"LTarget", "RTarget", "Operand"},
    "TaskLifecycle": {"Hook", "Sidecar"},
    "LogConfig": {"MaxFiles", "MaxFileSizeMB", "Enabled", "Disabled"},
}  # fmt: skip

#: Which struct each nested field holds (lists hold one struct each).
NESTED = {
    ("Job", "TaskGroups"): "TaskGroup",
    ("TaskGroup", "Tasks"): "Task",
    ("TaskGroup", "Networks"): "NetworkResource",
    ("TaskGroup", "Services"): "Service",
    ("TaskGroup", "RestartPolicy"): "RestartPolicy",
    ("Task", "Templates"): "Template",
    ("Task", "Resources"): "Resources",
    ("Task", "LogConfig"): "LogConfig",
    ("Task", "Lifecycle"): "TaskLifecycle",
    ("Job", "Constraints"): "Constraint",
    ("NetworkResource", "ReservedPorts"): "Port",
    ("Service", "Checks"): "ServiceCheck",
}
FREE_FORM = {("Task", "Config"), ("Task", "Env"), ("Job", "Meta")}


def check_fields(struct: str, value: dict[str, Any], path: str) -> int:
    unknown = set(value) - NOMAD_FIELDS[struct]
    assert not unknown, f"{path}: {unknown} are not fields of api.{struct}"
    checked = 1
    for key, item in value.items():
        if (struct, key) in FREE_FORM:
            continue
        inner = NESTED.get((struct, key))
        if inner is None:
            continue
        for index, element in enumerate(item if isinstance(item, list) else [item]):
            checked += check_fields(inner, element, f"{path}.{key}[{index}]")
    return checked
