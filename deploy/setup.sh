#!/bin/bash
# One-shot setup of the compose stack (docker-compose.yml, service `setup`):
#  1. a CA and certificates for Elasticsearch and Kibana, once. The CA's private key stays in
#     the `ca` volume, which only this service mounts; each other service gets its own volume
#     with what it needs (Elasticsearch and Kibana: their certificate, key and the CA
#     certificate; the scheduler: the CA certificate alone).
#  2. the kibana_system password, and the least-privilege `banwave` user the scheduler uses:
#     role banwave_writer (deploy/security/banwave_writer.role.json), limited to the
#     <BANWAVE_INDEX_PREFIX>-* indices and their templates. The `elastic` password never
#     leaves this service and Elasticsearch.
set -euo pipefail
umask 077
: "${ELASTIC_PASSWORD:?}" "${KIBANA_PASSWORD:?}" "${BANWAVE_ES_PASSWORD:?}"
prefix="${BANWAVE_INDEX_PREFIX:-banwave}"
cd /usr/share/elasticsearch

if [ ! -f /ca/ca.key ]; then
  work=$(mktemp -d)
  bin/elasticsearch-certutil ca --silent --pem -out "$work/ca.zip"
  unzip -q "$work/ca.zip" -d "$work"
  printf 'instances:\n  - name: elasticsearch\n    dns: [elasticsearch, localhost]\n    ip: [127.0.0.1]\n  - name: kibana\n    dns: [kibana, localhost]\n    ip: [127.0.0.1]\n' > "$work/instances.yml"
  bin/elasticsearch-certutil cert --silent --pem --in "$work/instances.yml" \
    --ca-cert "$work/ca/ca.crt" --ca-key "$work/ca/ca.key" -out "$work/certs.zip"
  unzip -q "$work/certs.zip" -d "$work"
  for service in elasticsearch kibana; do
    install -m 0644 "$work/ca/ca.crt" "/certs/$service/ca.crt"
    install -m 0644 "$work/$service/$service.crt" "/certs/$service/$service.crt"
    install -m 0400 -o 1000 -g 0 "$work/$service/$service.key" "/certs/$service/$service.key"
  done
  install -m 0644 "$work/ca/ca.crt" /certs/ca/ca.crt
  install -m 0600 "$work/ca/ca.crt" /ca/ca.crt
  install -m 0600 "$work/ca/ca.key" /ca/ca.key   # last: its presence means the certificates are done
  rm -rf "$work"
fi

es=https://elasticsearch:9200
call() { curl -s --cacert /certs/ca/ca.crt -u "elastic:$ELASTIC_PASSWORD" -H "Content-Type: application/json" "$@"; }
until curl -s --cacert /certs/ca/ca.crt "$es" | grep -q "missing authentication"; do sleep 5; done
until call -X POST "$es/_security/user/kibana_system/_password" -d "{\"password\":\"$KIBANA_PASSWORD\"}" | grep -q "^{}"; do sleep 5; done
sed "s/\"banwave-\*\"/\"$prefix-*\"/" /security/banwave_writer.role.json > /tmp/role.json
call -X PUT "$es/_security/role/banwave_writer" -d @/tmp/role.json | grep -q '"created"'
call -X PUT "$es/_security/user/banwave" \
  -d "{\"password\":\"$BANWAVE_ES_PASSWORD\",\"roles\":[\"banwave_writer\"],\"full_name\":\"banwave scheduler\"}" \
  | grep -q '"created"'
echo "setup: certificates in place, kibana_system and banwave users set"
