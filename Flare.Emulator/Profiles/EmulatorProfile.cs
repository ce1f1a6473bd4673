namespace Flare.Emulator.Profiles;

/// <summary>
/// The latency model of one emulated deployment: a model served by vLLM on a number of GPUs of one type.
/// Times are milliseconds of simulated GPU time (before any time-scale factor); token counts are tokens.
/// </summary>
/// <param name="Name">Stable name, <c>{model}@{gpu}x{count}</c>, e.g. <c>llama-3-8b@h100x1</c>.</param>
/// <param name="ModelId">Hugging Face id of the measured model, e.g. <c>meta-llama/Meta-Llama-3-8B</c>; the default served model name.</param>
/// <param name="ParametersBillions">Parameter count of the model, in billions.</param>
/// <param name="GpuType">GPU type of the measurements, lower case: <c>a100</c> or <c>h100</c>.</param>
/// <param name="GpuCount">Number of GPUs (tensor parallel degree) of the measurements.</param>
/// <param name="MaxModelLength">Longest context (prompt + output tokens) a request may use.</param>
/// <param name="MaxBatchedTokens">Most prompt tokens prefilled in one step (vLLM's <c>max_num_batched_tokens</c>).</param>
/// <param name="MaxNumSeqs">Most sequences running at once (vLLM's <c>max_num_seqs</c>).</param>
/// <param name="KvCacheTokens">KV-cache capacity in tokens; a request reserves prompt + output tokens of it while it runs.</param>
/// <param name="PrefillBaseMs">Fixed cost of a prefill step, ms.</param>
/// <param name="PrefillPerTokenMs">Cost per prompt token in a prefill step, ms.</param>
/// <param name="DecodeBaseMs">Fixed cost of a decode step, ms.</param>
/// <param name="DecodePerSequenceMs">Cost per running sequence in a decode step, ms.</param>
/// <param name="DecodePerContextTokenMs">Cost per token of context (prompt + generated) held by the running sequences in a decode step, ms.</param>
/// <param name="OutputLogMean">Mean of ln(output tokens) when the output length is drawn.</param>
/// <param name="OutputLogStdDev">Standard deviation of ln(output tokens) when the output length is drawn.</param>
/// <param name="CalibrationMape">Mean absolute percentage error of the simulated batch latency against the measured rows (0.05 = 5%).</param>
/// <param name="CalibrationRows">Number of measured rows the profile was fitted on.</param>
public sealed record EmulatorProfile(
    string Name,
    string ModelId,
    double ParametersBillions,
    string GpuType,
    int GpuCount,
    int MaxModelLength,
    int MaxBatchedTokens,
    int MaxNumSeqs,
    long KvCacheTokens,
    double PrefillBaseMs,
    double PrefillPerTokenMs,
    double DecodeBaseMs,
    double DecodePerSequenceMs,
    double DecodePerContextTokenMs,
    double OutputLogMean,
    double OutputLogStdDev,
    double CalibrationMape,
    int CalibrationRows)
{
    /// <summary>Duration of a prefill step over <paramref name="promptTokens"/> tokens, ms.</summary>
    public double PrefillMs(long promptTokens) => PrefillBaseMs + PrefillPerTokenMs * promptTokens;

    /// <summary>Duration of a decode step of <paramref name="batch"/> sequences holding <paramref name="contextTokens"/> tokens, ms.</summary>
    public double DecodeStepMs(int batch, long contextTokens) =>
        DecodeBaseMs + DecodePerSequenceMs * batch + DecodePerContextTokenMs * contextTokens;
}
