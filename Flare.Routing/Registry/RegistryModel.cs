namespace Flare.Routing.Registry;

/// <summary>Where a deployment's inference runs.</summary>
public enum DeploymentKind
{
    /// <summary>An OpenAI-compatible server the operator runs on their own GPUs (vLLM, TGI, SGLang...).</summary>
    SelfHosted,

    /// <summary>A paid API billed per token; no GPUs of the operator's.</summary>
    Api,

    /// <summary>Flare's LLM emulator: a real HTTP server whose latency comes from measured GPU data.</summary>
    Emulated,
}

/// <summary>A kind of GPU the operator can allocate (RouterWise's setup search reads these).</summary>
/// <param name="MemoryGiB">Device memory in GiB.</param>
/// <param name="PricePerHourUsd">Cost of one GPU for one hour, USD.</param>
/// <param name="PeakBf16Tflops">Dense bf16 peak, TFLOP/s.</param>
/// <param name="MemoryBandwidthGBs">Memory bandwidth, GB/s.</param>
/// <param name="PoolCount">How many of this type the operator has in the GPU pool.</param>
public sealed record GpuType(
    int Id,
    string Name,
    double MemoryGiB,
    double PricePerHourUsd,
    double PeakBf16Tflops,
    double MemoryBandwidthGBs,
    int PoolCount);

/// <summary>A model that one or more deployments serve.</summary>
/// <param name="ParameterCountBillions">Parameters, in billions (7.6 for a 7.6B model).</param>
/// <param name="ContextLength">Maximum context in tokens.</param>
/// <param name="InputPricePerMTokUsd">API price, USD per million input tokens; null for self-hosted only.</param>
/// <param name="OutputPricePerMTokUsd">API price, USD per million output tokens; null for self-hosted only.</param>
public sealed record Model(
    int Id,
    string Name,
    string Family,
    double ParameterCountBillions,
    int ContextLength,
    double? InputPricePerMTokUsd,
    double? OutputPricePerMTokUsd,
    IReadOnlyList<string> Tags);

/// <summary>A model served at an OpenAI-compatible endpoint.</summary>
/// <param name="BaseUrl">OpenAI-compatible base URL, ending before <c>/chat/completions</c> (e.g. <c>http://10.0.0.5:8000/v1</c>).</param>
/// <param name="ServedModelName">The <c>model</c> value the backend expects.</param>
/// <param name="GpuCount">GPUs the deployment occupies (0 for an API).</param>
/// <param name="TensorParallel">Tensor-parallel degree (1, 2, 4 or 8).</param>
/// <param name="MaxConcurrency">Requests Flare sends to it at once.</param>
public sealed record Deployment(
    int Id,
    string Name,
    int ModelId,
    DeploymentKind Kind,
    string BaseUrl,
    string ServedModelName,
    int? GpuTypeId,
    int GpuCount,
    int TensorParallel,
    int MaxConcurrency,
    bool Enabled);

/// <summary>
/// How Flare's LLM emulator behaves for an emulated deployment: which calibrated profile it follows
/// (null: the closest to the model's size and the deployment's GPUs) and which faults it injects.
/// </summary>
/// <param name="Profile">Emulator profile name (e.g. <c>llama-3-8b@h100x1</c>); null picks the closest.</param>
/// <param name="ErrorRate">Fraction of requests answered with <paramref name="ErrorStatusCode"/> (0–1).</param>
/// <param name="ErrorStatusCode">500, 503 or 429.</param>
/// <param name="SpikeProbability">Fraction of requests delayed by <paramref name="SpikeMs"/> before starting (0–1).</param>
/// <param name="SpikeMs">Added latency of a spike, milliseconds.</param>
/// <param name="FirstTokenStallMs">Stall before the first token of every request, milliseconds.</param>
/// <param name="DisconnectProbability">Fraction of streams cut after <paramref name="DisconnectAfterTokens"/> tokens (0–1).</param>
public sealed record EmulatorSettings(
    string? Profile = null,
    double ErrorRate = 0,
    int ErrorStatusCode = 503,
    double SpikeProbability = 0,
    double SpikeMs = 0,
    double FirstTokenStallMs = 0,
    double DisconnectProbability = 0,
    int DisconnectAfterTokens = 1)
{
    public static readonly EmulatorSettings Default = new();
}
