# The two commands: `make run` and `make test`. Both set up what they need (apt and
# pip) and are safe to run twice. The virtual environment is .venv/.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?= test,server,local,voice,ui,package
APT_PACKAGES := espeak-ng libespeak-ng1 sox libportaudio2 pulseaudio pulseaudio-utils \
  libasound2-plugins alsa-utils xvfb xauth xdotool x11-utils imagemagick libegl1 libgl1 \
  libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 fonts-dejavu-core libxcb-cursor0 \
  libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 \
  libxcb-xfixes0 libxcb-xkb1 libx11-xcb1 nodejs ruby tmux fonts-wqy-microhei appstream desktop-file-utils \
  dpkg-dev
comma := ,
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)-$(subst $(comma),_,$(EXTRAS))

.PHONY: run test bench lint setup system-deps clean

## run: set up, then start oi_voice on the embedded local model (the terminal chat when there is no display)
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && $(BIN)/python -c "import PySide6, oi_voice.ui.app" 2>/dev/null; then \
	  exec $(BIN)/oi-voice --local; \
	else \
	  echo "No display (or the desktop app is not installed): opening the terminal chat on the local model."; \
	  echo "Ctrl-C stops a reply or a run; Ctrl-D quits."; \
	  exec $(BIN)/oi --local; \
	fi

## test: set up, then lint and run the whole suite
test: setup lint
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

## screenshots: the README's pictures, from the real app under Xvfb with the scripted model (assets/screenshots/)
.PHONY: screenshots
screenshots: setup
	$(BIN)/python tests/screenshots.py --out assets/screenshots

## bench: measure oi_voice side by side with Open Interpreter (prints a table)
bench: setup
	$(BIN)/python tests/bench/run.py

## package: build the Linux installers dist/oi-voice_VERSION_ARCH.deb (PyInstaller bundle under /opt/oi-voice) and dist/oi-voice-local-model_VERSION_all.deb (the GGUF; see packaging/build_deb.py)
.PHONY: package
package: setup
	@$(BIN)/python -c "import PyInstaller" 2>/dev/null || $(BIN)/pip install -q -e ".[$(EXTRAS),package]"
	$(BIN)/python packaging/build_deb.py --out dist $(DEB_FLAGS)

lint: setup
	$(BIN)/ruff check oi_voice tests
	$(BIN)/mypy
	$(BIN)/lint-imports

setup: system-deps $(STAMP) translations

# The app's translations: .ts sources (assets/translations/, written by `make translations-update`
# and translated by hand) compiled into the .qm files the app loads. The .qm files are build outputs.
TS_FILES := $(wildcard assets/translations/oi_voice_*.ts)
QM_FILES := $(TS_FILES:.ts=.qm)
# The Python files whose strings are translated (self.tr, translate(), QT_TRANSLATE_NOOP).
I18N_SOURCES := oi_voice/settings.py oi_voice/core/effects.py $(wildcard oi_voice/ui/*.py)
.PHONY: translations translations-update
translations: $(QM_FILES)

assets/translations/%.qm: assets/translations/%.ts | $(STAMP)
	$(BIN)/pyside6-lrelease -silent $< -qm $@

## translations-update: add the app's new strings to the .ts files (then translate them: tests check none is left)
translations-update: $(STAMP)
	for ts in $(TS_FILES); do \
	  lang=$$(basename $$ts .ts); lang=$${lang#oi_voice_}; \
	  $(BIN)/pyside6-lupdate -silent -locations none -no-obsolete $(I18N_SOURCES) -source-language en \
	    -target-language $$lang -ts $$ts || exit 1; \
	done

# apt only when something is missing, so a second run costs nothing.
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages: $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) build dist *.egg-info
