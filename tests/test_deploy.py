"""Static checks of the deploy kit: Docker cannot run here, so parse and cross-check it."""
import json
import re

import yaml
from dockerfile_parse import DockerfileParser

import config

DEPLOY = config.REPO_ROOT / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def dev_es_version() -> str:
    pom = (DEPLOY / "dev-es" / "pom.xml").read_text(encoding="utf-8")
    return re.search(r"<es\.version>([\d.]+)</es\.version>", pom).group(1)


def test_compose_images_match_the_dev_server_version():
    services = compose()["services"]
    version = dev_es_version()
    assert version.startswith("8.")
    assert services["elasticsearch"]["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{version}"
    assert services["kibana"]["image"] == f"docker.elastic.co/kibana/kibana:{version}"
    assert services["setup"]["image"] == services["elasticsearch"]["image"]


def test_compose_ports_and_security():
    services = compose()["services"]
    assert "127.0.0.1:9200:9200" in services["elasticsearch"]["ports"]
    assert "127.0.0.1:5601:5601" in services["kibana"]["ports"]
    es_env = services["elasticsearch"]["environment"]
    assert es_env["xpack.security.enabled"] == "true"
    assert es_env["xpack.security.http.ssl.enabled"] == "true"
    # Secrets are required from the environment, never written in the file.
    assert es_env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD:?")


def test_scheduler_service_uses_only_known_settings():
    scheduler = compose()["services"]["scheduler"]
    environment = scheduler["environment"]
    assert set(environment) <= set(config.VARIABLES), set(environment) - set(config.VARIABLES)
    assert environment["BANWAVE_ES_URL"] == "https://elasticsearch:9200"
    assert environment["BANWAVE_KIBANA_URL"] == "https://kibana:5601"
    assert environment["BANWAVE_DATA_DIR"] == "/data"
    assert any(volume.endswith(":/data") for volume in scheduler["volumes"])
    assert scheduler["command"][:2] == ["banwave", "schedule"]
    build = scheduler["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()
    # Every secret has a ${VAR} indirection, no literal value.
    for name in ("BANWAVE_ES_PASSWORD", "BANWAVE_ES_API_KEY"):
        assert environment[name].startswith("${")


def test_dockerfile_parses_and_runs_the_scheduler():
    parser = DockerfileParser(path=str(DEPLOY / "Dockerfile"))
    instructions = [item["instruction"] for item in parser.structure if item["instruction"] != "COMMENT"]
    assert instructions[0] == "FROM"
    assert parser.baseimage.startswith("python:3.1")
    assert "USER" in instructions and "VOLUME" in instructions
    assert parser.envs["BANWAVE_DATA_DIR"] == "/data"
    assert set(parser.envs) - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"} <= set(config.VARIABLES)
    cmd = next(item["value"] for item in parser.structure if item["instruction"] == "CMD")
    assert '"banwave", "schedule"' in cmd


def test_deploy_readme_names_every_secret():
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for name in ("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "BANWAVE_ES_PASSWORD", "BANWAVE_ES_API_KEY"):
        assert name in readme


# ---------------------------------------------------------------------------- issue 14: safe defaults

def mounts(service: dict) -> dict[str, str]:
    """volume or path -> mount point, for a service's short-syntax volumes."""
    return {volume.split(":")[0]: volume.split(":")[1] for volume in service.get("volumes", [])}


def test_the_ca_private_key_is_readable_only_by_setup():
    services = compose()["services"]
    setup = (DEPLOY / "setup.sh").read_text(encoding="utf-8")
    key_volume = next(name for name, point in mounts(services["setup"]).items() if point == "/ca")
    assert [name for name, service in services.items() if key_volume in mounts(service)] == ["setup"]
    # setup.sh writes ca.key only into that volume; the others get the CA certificate, never its key
    installs = [line.split("#")[0].split() for line in setup.splitlines() if line.strip().startswith("install ")]
    key_copies = [words for words in installs if words[-2].endswith('ca.key"')]
    assert key_copies and all(words[-1].startswith("/ca/") for words in key_copies), key_copies
    for name in ("elasticsearch", "kibana", "scheduler"):
        shared = {volume for volume in mounts(services[name]) if volume in mounts(services["setup"])}
        assert shared and key_volume not in shared
    service_keys = [words for words in installs if words[-1].endswith('.key"') and not words[-1].startswith("/ca/")]
    assert service_keys and all(words[1:3] == ["-m", "0400"] for words in service_keys), service_keys


def test_the_scheduler_logs_in_as_a_least_privilege_user_not_elastic():
    services = compose()["services"]
    environment = services["scheduler"]["environment"]
    assert environment["BANWAVE_ES_USERNAME"] == "banwave"
    assert not [name for name, value in environment.items() if "ELASTIC_PASSWORD" in str(value)]
    assert services["scheduler"]["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    role = json.loads((DEPLOY / "security" / "banwave_writer.role.json").read_text(encoding="utf-8"))
    assert set(role["cluster"]) <= {"monitor", "manage_index_templates"}
    [indices] = role["indices"]
    assert indices["names"] == ["banwave-*"]
    assert not {"all", "superuser", "manage_security"} & set(indices["privileges"] + role["cluster"])
    setup = (DEPLOY / "setup.sh").read_text(encoding="utf-8")
    assert "_security/role/banwave_writer" in setup and "_security/user/banwave" in setup
    assert '\\"roles\\":[\\"banwave_writer\\"]' in setup
    assert "ELASTIC_PASSWORD" in str(services["setup"]["environment"])


def test_kibana_serves_https_and_banwave_verifies_it():
    services = compose()["services"]
    kibana = services["kibana"]["environment"]
    assert kibana["SERVER_SSL_ENABLED"] == "true"
    environment = services["scheduler"]["environment"]
    assert environment["BANWAVE_KIBANA_URL"].startswith("https://")
    assert environment["BANWAVE_KIBANA_CA_CERT"] == environment["BANWAVE_ES_CA_CERT"] == "/certs/ca.crt"
    assert mounts(services["scheduler"])["ca-cert"] == "/certs"
