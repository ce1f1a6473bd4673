using Flare.Routing.Registry;

namespace Flare.Data.Registry;

/// <summary>A GPU type as the UI and <c>/api</c> show it.</summary>
public sealed record GpuTypeView(
    int Id,
    string Name,
    double MemoryGiB,
    double PricePerHourUsd,
    double PeakBf16Tflops,
    double MemoryBandwidthGBs,
    int PoolCount,
    int DeploymentCount,
    int GpusInUse);

/// <summary>A model as the UI and <c>/api</c> show it.</summary>
public sealed record ModelView(
    int Id,
    string Name,
    string Family,
    double ParameterCountBillions,
    int ContextLength,
    double? InputPricePerMTokUsd,
    double? OutputPricePerMTokUsd,
    IReadOnlyList<string> Tags,
    int DeploymentCount);

/// <summary>
/// A deployment as the UI and <c>/api</c> show it. The API key itself is never part of it:
/// <see cref="ApiKeyHint"/> shows only its last four characters.
/// </summary>
public sealed record DeploymentView(
    int Id,
    string Name,
    int ModelId,
    string ModelName,
    DeploymentKind Kind,
    string BaseUrl,
    string ServedModelName,
    bool HasApiKey,
    string? ApiKeyHint,
    int? GpuTypeId,
    string? GpuTypeName,
    int GpuCount,
    int TensorParallel,
    int MaxConcurrency,
    bool Enabled,
    IReadOnlyList<string> Warnings,
    EmulatorSettings? Emulator = null);

/// <summary>One line of the GPU pool: how many GPUs of a type the operator has and how many deployments use.</summary>
public sealed record GpuPoolLine(int GpuTypeId, string GpuTypeName, int Count, int InUse, double PricePerHourUsd);
