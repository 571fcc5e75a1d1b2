"""torch.backends.cpu: the vector instruction set the CPU kernels use."""


def get_cpu_capability():
    """The widest vector extension this CPU offers, in PyTorch's names."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return "DEFAULT"
    if "avx512" in flags:
        return "AVX512"
    if "avx2" in flags:
        return "AVX2"
    return "DEFAULT"
