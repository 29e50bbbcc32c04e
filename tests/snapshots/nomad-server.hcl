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
  service_identity {
    aud = ["consul.io"]
    ttl = "1h"
  }
  task_identity {
    aud = ["consul.io"]
    ttl = "1h"
  }
}
vault {
  enabled = true
  address = "http://10.0.2.5:8200"
  default_identity {
    aud = ["vault.io"]
    ttl = "1h"
  }
}
telemetry {
  prometheus_metrics = true
  publish_allocation_metrics = true
  publish_node_metrics = true
  collection_interval = "5s"
  disable_hostname = true
}
server {
  enabled = true
  bootstrap_expect = 1
  encrypt = "bm9tYWQtZ29zc2lwLWtleS0zMi1ieXRlcy1sb25nISE="
  server_join {
    retry_join = ["10.0.2.5"]
  }
}
client {
  enabled = false
}
