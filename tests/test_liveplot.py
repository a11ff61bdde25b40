"""callbacks.LivePlot: curves redrawn in place in Jupyter, nothing drawn in a terminal."""
import numpy as np

import pycnn


def test_liveplot_redraws_in_a_notebook_and_stays_quiet_in_a_terminal(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import IPython.display
    shown = []

    class Handle:
        def update(self, fig):
            shown.append(("update", fig))
    monkeypatch.setattr(IPython.display, "display",
                        lambda fig, display_id=False: shown.append(("display", fig)) or Handle())
    x = np.random.default_rng(0).standard_normal((40, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("float32")[:, None]
    model = pycnn.models.Sequential([pycnn.layers.Conv2D(4, 3, input_shape=(6, 6, 1)),
                                     pycnn.layers.Flatten(),
                                     pycnn.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    quiet = pycnn.callbacks.LivePlot()
    assert quiet.active is False                       # pytest is no notebook
    model.fit(x, y, epochs=2, verbose=0, callbacks=[quiet])
    assert quiet.figures == 0 and shown == [] and len(quiet.history["loss"]) == 2
    live = pycnn.callbacks.LivePlot(layer=model.layers[0], image=x[0], force=True)
    model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[live])
    assert [kind for kind, _ in shown] == ["display", "update", "update"]
    assert live.figures == 3 and live.epochs == [1, 2, 3]
    fig = live.figure()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("loss: ") and "conv2d" in titles[2]
    assert titles[3] == "feature maps of the image"
