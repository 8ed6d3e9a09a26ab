"""Static checks of the deploy kit: Docker cannot run here, so parse and cross-check it."""
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
    assert environment["BANWAVE_KIBANA_URL"] == "http://kibana:5601"
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
    for name in ("ELASTIC_PASSWORD", "KIBANA_PASSWORD", "BANWAVE_ES_API_KEY"):
        assert name in readme
