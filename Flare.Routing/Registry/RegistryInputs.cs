namespace Flare.Routing.Registry;

/// <summary>What an operator enters to create or change a GPU type.</summary>
public sealed record GpuTypeInput
{
    public string Name { get; init; } = "";
    public double MemoryGiB { get; init; }
    public double PricePerHourUsd { get; init; }
    public double PeakBf16Tflops { get; init; }
    public double MemoryBandwidthGBs { get; init; }
    /// <summary>GPUs of this type in the pool; unchanged when null on update, 0 when null on create.</summary>
    public int? PoolCount { get; init; }
}

/// <summary>What an operator enters to create or change a model.</summary>
public sealed record ModelInput
{
    public string Name { get; init; } = "";
    public string Family { get; init; } = "";
    public double ParameterCountBillions { get; init; }
    public int ContextLength { get; init; }
    public double? InputPricePerMTokUsd { get; init; }
    public double? OutputPricePerMTokUsd { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
}

/// <summary>What an operator enters to create or change a deployment.</summary>
public sealed record DeploymentInput
{
    public string Name { get; init; } = "";
    public int ModelId { get; init; }
    public DeploymentKind Kind { get; init; }
    public string BaseUrl { get; init; } = "";
    public string ServedModelName { get; init; } = "";
    /// <summary>Backend API key. Null keeps the stored key on update; an empty string removes it.</summary>
    public string? ApiKey { get; init; }
    public int? GpuTypeId { get; init; }
    public int GpuCount { get; init; }
    public int TensorParallel { get; init; } = 1;
    public int MaxConcurrency { get; init; } = 64;
    public bool Enabled { get; init; } = true;

    /// <summary>Emulator profile and faults; used only by emulated deployments (null: closest profile, no faults).</summary>
    public EmulatorSettings? Emulator { get; init; }
}
