#!/usr/bin/env bash
# On the server: print the admin kubeconfig (the step's output is secret and not logged).

cat /etc/rancher/k3s/k3s.yaml
