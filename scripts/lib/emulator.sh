# Helpers shared by the scripts: the Python virtual environment with the local AWS
# emulator (moto server). Sourced, not run.

SHEPHERD_VENV="${SHEPHERD_VENV:-$PWD/.venv}"
MOTO_VERSION="5.2.5"

# Creates .venv with moto[server] unless it is there already, and exports
# SHEPHERD_MOTO_SERVER with the path of the moto_server executable for the tests.
ensure_emulator_venv() {
    if ! "$SHEPHERD_VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
        echo "Installing the local AWS emulator (moto[server]==$MOTO_VERSION) into $SHEPHERD_VENV ..."
        python3 -m venv "$SHEPHERD_VENV"
        "$SHEPHERD_VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    fi
    export SHEPHERD_MOTO_SERVER="$SHEPHERD_VENV/bin/moto_server"
}
