# Every target makes its own virtualenv in .venv, so a fresh clone needs only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-torch-oldest test-jax-oldest fuzz bench golden docs samples torch-samples jax-samples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p out
	$(BIN)/gad explain samples/seed.gad --wrt x2 -o out/seed.png

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The torch tests on the oldest torch we support (docs/torch.md), with the torchvision of its
# release, in a virtualenv of their own; CI runs this beside `make test` on the newest torch.
OLDEST_TORCH := 2.5.1
OLDEST_TORCHVISION := 0.20.1
OLDEST := .venv-torch-$(OLDEST_TORCH)
TORCH_TESTS := $(wildcard tests/test_*torch*.py)  # every file of torch tests

$(OLDEST)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLDEST)
	PIP_CONFIG_FILE=/dev/null $(OLDEST)/bin/python -m pip install --quiet --no-cache-dir \
		-e '.[test]' torch==$(OLDEST_TORCH) torchvision==$(OLDEST_TORCHVISION)
	touch $@

test-torch-oldest: $(OLDEST)/.installed
	$(OLDEST)/bin/python -m pytest -q $(TORCH_TESTS)

# The jax tests on the oldest JAX we support (docs/jax.md), in a virtualenv of their own; CI
# runs this beside `make test` on the newest JAX.
OLDEST_JAX := 0.6.2
OLDEST_JAX_VENV := .venv-jax-$(OLDEST_JAX)

$(OLDEST_JAX_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLDEST_JAX_VENV)
	PIP_CONFIG_FILE=/dev/null $(OLDEST_JAX_VENV)/bin/python -m pip install --quiet --no-cache-dir \
		-e '.[test]' jax==$(OLDEST_JAX) jaxlib==$(OLDEST_JAX)
	touch $@

test-jax-oldest: $(OLDEST_JAX_VENV)/.installed
	$(OLDEST_JAX_VENV)/bin/python -m pytest -q tests/test_jax.py

# The same properties as `make test`, with 50x the examples.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz.py tests/test_properties.py tests/test_paths.py

# Benchmarks print ratios measured side by side; none of them is part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet micrograd
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/higher.py
	$(BIN)/python bench/aspect.py
	$(BIN)/python bench/paths.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/pictures.py
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/page.py 500
	$(BIN)/python bench/pytorch.py
	$(BIN)/python bench/torch_scale.py
	$(BIN)/python bench/heatmaps.py
	$(BIN)/python bench/jaxpr.py

# Each sample as SVG and PNG in docs/pictures/, with the input whose paths are coloured.
define picture
	$(BIN)/gad graph samples/$(1).gad -o docs/pictures/$(1).svg $(2)
	$(BIN)/gad graph samples/$(1).gad -o docs/pictures/$(1).png $(2)
endef

samples: $(STAMP)
	mkdir -p docs/pictures
	$(call picture,seed,--wrt x2)
	$(call picture,detach,--wrt x)
	$(call picture,neuron,--wrt w)
	$(call picture,network,--wrt W1 --rankdir TB)
	$(call picture,fanout,--wrt x)
	$(call picture,rnn,--wrt W)
	$(BIN)/gad graph samples/seed.gad -o docs/pictures/seed-plain.png
	$(BIN)/gad graph samples/seed.gad -o docs/pictures/seed-formula.png --edge-labels both
	$(BIN)/gad graph samples/seed.gad -o docs/pictures/seed-backward.png --wrt x1 --view backward
	$(BIN)/gad graph samples/seed.gad -o docs/pictures/seed-dark.png --wrt x2 --theme dark
	$(BIN)/gad graph samples/doubling.gad x=1 --wrt x -o docs/pictures/doubling.png
	$(BIN)/gad graph samples/sum150.gad --wrt x -o docs/pictures/sum150.png
	$(call picture,mlp300,--wrt x1)
	$(call picture,program2000,--depth 0)
	$(BIN)/gad graph samples/softmax_step.gad X=@samples/data/X.npy y=@samples/data/y.npy --wrt W -o docs/pictures/softmax-step.png
	$(BIN)/gad graph samples/layer_norm.gad --wrt x --rankdir TB -o docs/pictures/layer-norm.png
	$(BIN)/gad graph samples/mlp_batch.gad -o docs/pictures/mlp-batch.png
	$(BIN)/gad graph samples/seed_gradient.gad --wrt x2 -o docs/pictures/seed-gradient.png
	$(BIN)/gad graph samples/tanh_derivatives.gad -o docs/pictures/tanh-derivatives.png
	$(BIN)/gad graph samples/program2000.gad -o docs/pictures/program2000-rows.png
	$(BIN)/gad graph samples/network_2_3_1.gad --view network -o docs/pictures/network-2-3-1.svg
	$(BIN)/gad graph samples/network_2_3_1.gad --view network -o docs/pictures/network-2-3-1.png
	$(BIN)/gad graph samples/network_2_4_3_1.gad --view network -o docs/pictures/network-2-4-3-1.png
	$(BIN)/gad graph samples/network_2_3_1.gad --view network --edge-labels both -o docs/pictures/network-2-3-1-grads.png
	$(BIN)/python docs/page_pictures.py  # the page of the worked example, and three screenshots

# The pictures of docs/torch.md; they need PyTorch in the venv (.venv/bin/pip install torch).
TORCH_SEED := samples/torch_seed.py x1=1.5 x2=0.5 c=1
torch-samples: $(STAMP)
	$(BIN)/gad torch $(TORCH_SEED) --wrt x2 -o docs/pictures/torch-seed.png
	$(BIN)/gad torch $(TORCH_SEED) --wrt x1 --view backward -o docs/pictures/torch-seed-backward.png
	$(BIN)/gad torch samples/torch_detach.py:with_detach x=[1,1] --wrt x -o docs/pictures/torch-detach.png
	$(BIN)/gad torch samples/torch_detach.py:with_data x=[1,1] --wrt x -o docs/pictures/torch-data.png
	$(BIN)/gad torch samples/torch_detach.py:with_no_grad x=[1,1] --wrt x -o docs/pictures/torch-no-grad.png
	$(BIN)/gad torch samples/torch_mlp.py:loss --wrt model.0.weight -o docs/pictures/torch-mlp.png
	$(BIN)/gad torch samples/torch_resnet.py:loss -o docs/pictures/torch-resnet.png
	$(BIN)/gad torch samples/torch_resnet.py:loss --depth 1 -o docs/pictures/torch-resnet-folded.png
	$(BIN)/gad torch samples/torch_resnet18.py -o docs/pictures/torch-resnet18.png

clean:
	rm -rf $(VENV) $(OLDEST) $(OLDEST_JAX_VENV) build *.egg-info

# docs/jax.md's pictures (JAX in .venv: .venv/bin/pip install jax).
jax-samples: $(STAMP)
	$(BIN)/gad jax samples/jax_seed.py x1=1.5 x2=0.5 --wrt x2 -o docs/pictures/jax-seed.png
	$(BIN)/gad jax samples/jax_jit.py:slope x=0.7 --wrt x -o docs/pictures/jax-slope.png
	$(BIN)/gad jax samples/jax_rnn.py --wrt h0 --max-boxes 20 -o docs/pictures/jax-rnn.png

golden: $(STAMP)
	GAD_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_render.py -k golden

docs: $(STAMP)  # the generated tables and every `$ gad ...` example in the docs
	$(BIN)/python docs/sync.py
