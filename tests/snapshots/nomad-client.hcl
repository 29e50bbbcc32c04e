datacenter = "dc1"
data_dir = "/opt/nomad/data"
name = "n1"
bind_addr = "10.0.2.7"
advertise {
  http = "10.0.2.7"
  rpc = "10.0.2.7"
  serf = "10.0.2.7"
}
acl {
  enabled = true
}
consul {
  address = "127.0.0.1:8500"
  token = "0b6cd3c4-58f6-4b44-8f5e-222222222222"
}
vault {
  enabled = true
  address = "http://10.0.2.5:8200"
}
telemetry {
  prometheus_metrics = true
  publish_allocation_metrics = true
  publish_node_metrics = true
  collection_interval = "5s"
  disable_hostname = true
}
client {
  enabled = true
  servers = ["10.0.2.5:4647"]
  network_interface = "{{ GetAllInterfaces | include \"address\" \"10.0.2.7\" | attr \"name\" }}"
  cni_path = "/opt/cni/bin"
  node_class = "faasbench-worker"
}
plugin "docker" {
  config {
    allow_privileged = false
    volumes {
      enabled = false
    }
  }
}
