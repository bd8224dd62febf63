"""The Qt layer of LeNet Studio: widgets and windows on top of lenet_gui.core."""
