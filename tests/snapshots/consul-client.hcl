datacenter = "dc1"
data_dir = "/opt/consul"
node_name = "n1"
server = false
bind_addr = "10.0.2.7"
advertise_addr = "10.0.2.7"
client_addr = "127.0.0.1 10.0.2.7"
retry_join = ["10.0.2.5"]
encrypt = "Y29uc3VsLWdvc3NpcC1rZXktMzItYnl0ZXMtbG9uZyE="
leave_on_terminate = true
ui_config {
  enabled = false
}
acl {
  enabled = true
  default_policy = "deny"
  enable_token_persistence = true
  tokens {
    agent = "0b6cd3c4-58f6-4b44-8f5e-222222222222"
  }
}
telemetry {
  prometheus_retention_time = "1h"
  disable_hostname = true
}
