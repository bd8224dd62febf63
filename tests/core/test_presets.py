"""The recipes a user picks by name, and the words the Train tab and the CLI use for them."""

from __future__ import annotations

from lenet_gui.core.presets import preset_config, preset_features


def test_a_preset_without_a_data_set_is_for_fashion_mnist():
    # The README's and `lenet-gui train`'s default data set.
    assert preset_config("classic").dataset == "fashion-mnist"
    assert preset_config("modern").dataset == "fashion-mnist"


def test_modern_on_mnist_is_the_recipe_the_readme_states():
    # README: the MNIST model's loss includes label smoothing 0.1; digits are shifted, never
    # flipped (a flipped 2 is no digit), with weight decay.
    config = preset_config("modern", "mnist")
    assert config.label_smoothing == 0.1
    assert config.augment_shift == 2 and not config.augment_flip
    assert config.weight_decay == 5e-4


def test_the_features_name_what_each_recipe_adds_to_the_plain_network():
    classic = dict(preset_features(preset_config("classic")))
    assert classic == {"activation": "sigmoid"}  # the tutorial's network, nothing added
    modern = preset_features(preset_config("modern", "mnist"))
    codes = [code for code, _ in modern]
    assert codes[0] == "activation" and dict(modern)["activation"] == "relu"
    config = preset_config("modern", "mnist")
    assert dict(modern)["batch_norm"] is True
    assert dict(modern)["label_smoothing"] == config.label_smoothing
    assert dict(modern)["augment_shift"] == config.augment_shift == 2
    assert "augment_flip" not in codes
    # Each setting shown once, flags as True and amounts as their values.
    assert len(codes) == len(set(codes))
    dropout = preset_features(preset_config("modern", "mnist", dropout=0.3))
    assert dict(dropout)["dropout"] == 0.3
    assert "augment_shift" not in dict(preset_features(preset_config("modern", "mnist", augment_shift=0)))
    assert dict(preset_features(preset_config("modern", "fashion-mnist")))["augment_flip"] is True


def test_robust_trains_garments_longer_than_digits_as_the_bundled_models_were():
    # README: each bundled model is reproduced by its `lenet-gui train --preset robust` command.
    assert preset_config("robust", "fashion-mnist").epochs == 40
    assert preset_config("robust", "mnist").epochs == 22
    assert preset_config("robust", "fashion-mnist", epochs=3).epochs == 3  # --epochs still wins
