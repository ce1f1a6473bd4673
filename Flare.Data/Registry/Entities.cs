using Flare.Routing.Registry;

namespace Flare.Data.Registry;

/// <summary>Row of the GPU type table; the pool count lives here (one pool per Flare installation).</summary>
public sealed class GpuTypeEntity
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public double MemoryGiB { get; set; }
    public double PricePerHourUsd { get; set; }
    public double PeakBf16Tflops { get; set; }
    public double MemoryBandwidthGBs { get; set; }
    public int PoolCount { get; set; }
    public DateTime CreatedUtc { get; set; }
    public DateTime UpdatedUtc { get; set; }

    public GpuType ToDomain() => new(Id, Name, MemoryGiB, PricePerHourUsd, PeakBf16Tflops, MemoryBandwidthGBs, PoolCount);
}

public sealed class ModelEntity
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string Family { get; set; } = "";
    public double ParameterCountBillions { get; set; }
    public int ContextLength { get; set; }
    public double? InputPricePerMTokUsd { get; set; }
    public double? OutputPricePerMTokUsd { get; set; }

    /// <summary>Comma-separated; tags cannot contain commas (see <see cref="RegistryRules"/>).</summary>
    public string Tags { get; set; } = "";
    public DateTime CreatedUtc { get; set; }
    public DateTime UpdatedUtc { get; set; }

    public List<DeploymentEntity> Deployments { get; set; } = [];

    public IReadOnlyList<string> TagList => Tags.Length == 0 ? [] : Tags.Split(',');

    public Model ToDomain() => new(Id, Name, Family, ParameterCountBillions, ContextLength,
        InputPricePerMTokUsd, OutputPricePerMTokUsd, TagList);
}

public sealed class DeploymentEntity
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public int ModelId { get; set; }
    public ModelEntity? Model { get; set; }
    public DeploymentKind Kind { get; set; }
    public string BaseUrl { get; set; } = "";
    public string ServedModelName { get; set; } = "";

    /// <summary>The backend's API key. Never returned by the API or shown in the UI; only its hint is.</summary>
    public string? ApiKey { get; set; }
    public int? GpuTypeId { get; set; }
    public GpuTypeEntity? GpuType { get; set; }
    public int GpuCount { get; set; }
    public int TensorParallel { get; set; } = 1;
    public int MaxConcurrency { get; set; } = 64;
    public bool Enabled { get; set; } = true;

    /// <summary>Emulator profile and faults for emulated deployments (stored as JSON text; null for the others).</summary>
    public EmulatorSettings? Emulator { get; set; }
    public DateTime CreatedUtc { get; set; }
    public DateTime UpdatedUtc { get; set; }

    public Deployment ToDomain() => new(Id, Name, ModelId, Kind, BaseUrl, ServedModelName, GpuTypeId,
        GpuCount, TensorParallel, MaxConcurrency, Enabled);
}

/// <summary>Key/value facts about the installation itself (e.g. that the demo fleet was seeded once).</summary>
public sealed class InstallationFact
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
    public DateTime UpdatedUtc { get; set; }
}
