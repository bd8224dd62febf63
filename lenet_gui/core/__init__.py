"""The Qt-free core of LeNet Studio: any script or test can drive it (a test keeps Qt out)."""
