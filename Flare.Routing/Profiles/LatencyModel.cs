namespace Flare.Routing.Profiles;

/// <summary>
/// A deployment's fitted, length- and load-aware latency curves (ROUTING.md §3). All coefficients are
/// non-negative, so every curve is non-decreasing in input tokens, load and context; "load" is
/// concurrency <c>c</c> ≥ 1, the requests in flight including the one predicted.
/// <code>
/// TTFT(L_in, c)   = a + b·L_in + g·L_in·(c − 1) + h·(c − 1)
/// TPOT(c, ctx)    = d + e·c + f·c·ctx
/// e2e(L_in, L_out, c) = TTFT(L_in, c) + (L_out − 1)·TPOT(c, L_in + L_out/2)
/// </code>
/// </summary>
/// <remarks>
/// <para>Why this form. A prefill is compute-bound, so its time grows linearly with the prompt tokens
/// (<c>a + b·L_in</c>). Under load a new request waits for, or is batched with, the prefills of the others in
/// flight (<c>g·L_in·(c − 1)</c>, their prompts taken to be like its own, as in a sweep grid) and for the
/// decode steps interleaved with them (<c>h·(c − 1)</c>). Counting load in requests in flight rather than in
/// arrivals per second keeps this linear: by Little's law the queue ahead of a request is what concurrency
/// measures, so the wait is proportional to it, while the same wait is a 1/(1 − ρ) curve in the arrival rate;
/// that curve is what <see cref="RateLatencyCurve"/> keeps, piecewise-linear over measured points.</para>
/// <para>A decode step reads the weights once (<c>d</c>), does per-sequence work such as sampling and the
/// batch's share of the matmuls (<c>e·c</c>), and attends over the KV cache of every running sequence
/// (<c>f·c·ctx</c>, with <c>ctx</c> the mean tokens a sequence holds while it decodes: L_in + L_out/2). This
/// is the step-time model the emulator reproduces vLLM with (docs/emulator-calibration.md).</para>
/// <para>Every term is linear in the coefficients, so the fit is a least-squares problem; the coefficients
/// are physical times and must not be negative, hence non-negative least squares, which also keeps the
/// curves monotone in load — what RouterWise's capacity prices assume.</para>
/// </remarks>
/// <param name="TtftBaseMs"><c>a</c>: fixed TTFT (scheduling, one forward pass), ms.</param>
/// <param name="TtftPerInputTokenMs"><c>b</c>: prefill time per prompt token, ms/token.</param>
/// <param name="TtftPerQueuedInputTokenMs"><c>g</c>: wait per prompt token per other request in flight, ms/token.</param>
/// <param name="TtftPerQueuedRequestMs"><c>h</c>: wait per other request in flight, ms.</param>
/// <param name="TpotBaseMs"><c>d</c>: fixed decode step time, ms.</param>
/// <param name="TpotPerRequestMs"><c>e</c>: decode step time per running request, ms.</param>
/// <param name="TpotPerContextTokenMs"><c>f</c>: decode step time per context token held by a running request, ms/token.</param>
public sealed record LatencyModel(
    double TtftBaseMs,
    double TtftPerInputTokenMs,
    double TtftPerQueuedInputTokenMs,
    double TtftPerQueuedRequestMs,
    double TpotBaseMs,
    double TpotPerRequestMs,
    double TpotPerContextTokenMs)
{
    /// <summary>Number of coefficients, in the order of <see cref="ToArray"/>.</summary>
    public const int ParameterCount = 7;

    /// <summary>Mean context a sequence holds while it decodes: its prompt plus half its output, in tokens.</summary>
    public static double MeanContextTokens(int inputTokens, int outputTokens) => inputTokens + outputTokens / 2.0;

    /// <summary>Predicted time to first token, in ms.</summary>
    public double TtftMs(int inputTokens, double concurrency)
    {
        var others = Math.Max(0, concurrency - 1);
        return TtftBaseMs + TtftPerInputTokenMs * inputTokens + TtftPerQueuedInputTokenMs * inputTokens * others
            + TtftPerQueuedRequestMs * others;
    }

    /// <summary>Predicted time per output token after the first, in ms.</summary>
    /// <param name="contextTokens">Mean tokens a running sequence holds; see <see cref="MeanContextTokens"/>.</param>
    public double TpotMs(double concurrency, double contextTokens)
    {
        var c = Math.Max(1, concurrency);
        return TpotBaseMs + TpotPerRequestMs * c + TpotPerContextTokenMs * c * contextTokens;
    }

    /// <summary>Predicted end-to-end latency, in ms: TTFT + (L_out − 1)·TPOT (FLARE, ROUTING.md §2.1).</summary>
    public double E2eMs(int inputTokens, int outputTokens, double concurrency) =>
        TtftMs(inputTokens, concurrency)
        + Math.Max(0, outputTokens - 1) * TpotMs(concurrency, MeanContextTokens(inputTokens, outputTokens));

    /// <summary>Completed requests per second when <paramref name="concurrency"/> requests of these lengths are
    /// kept in flight: c / e2e (Little's law).</summary>
    public ThroughputPoint Throughput(int inputTokens, int outputTokens, double concurrency)
    {
        var c = Math.Max(1, concurrency);
        var rps = c / (E2eMs(inputTokens, outputTokens, c) / 1000.0);
        return new ThroughputPoint(c, rps, rps * outputTokens, rps * (inputTokens + outputTokens));
    }

    /// <summary>
    /// Saturation throughput: the highest <see cref="Throughput"/> over whole concurrencies 1 … <paramref
    /// name="maxConcurrency"/>. Pass the largest concurrency the profile measured: past it the curves are
    /// extrapolated and the server's KV-cache limit, which they do not model, caps the batch.
    /// </summary>
    public ThroughputPoint SaturationThroughput(int inputTokens, int outputTokens, double maxConcurrency)
    {
        var best = Throughput(inputTokens, outputTokens, 1);
        for (var c = 2; c <= Math.Floor(maxConcurrency); c++)
        {
            var point = Throughput(inputTokens, outputTokens, c);
            if (point.RequestsPerSecond > best.RequestsPerSecond)
            {
                best = point;
            }
        }

        return best;
    }

    /// <summary>
    /// Goodput: the highest throughput over whole concurrencies 1 … <paramref name="maxConcurrency"/> at which
    /// the predicted TTFT, TPOT and e2e of a request of these lengths all meet <paramref name="slo"/>; null
    /// when even one request alone misses it.
    /// </summary>
    public ThroughputPoint? Goodput(int inputTokens, int outputTokens, LatencySlo slo, double maxConcurrency)
    {
        ArgumentNullException.ThrowIfNull(slo);
        ThroughputPoint? best = null;
        var context = MeanContextTokens(inputTokens, outputTokens);
        for (var c = 1; c <= Math.Max(1, Math.Floor(maxConcurrency)); c++)
        {
            if (!slo.IsMetBy(TtftMs(inputTokens, c), TpotMs(c, context), E2eMs(inputTokens, outputTokens, c)))
            {
                continue;
            }

            var point = Throughput(inputTokens, outputTokens, c);
            if (best is null || point.RequestsPerSecond > best.Value.RequestsPerSecond)
            {
                best = point;
            }
        }

        return best;
    }

    /// <summary>The coefficients in declaration order (a, b, g, h, d, e, f).</summary>
    public double[] ToArray() =>
    [
        TtftBaseMs, TtftPerInputTokenMs, TtftPerQueuedInputTokenMs, TtftPerQueuedRequestMs,
        TpotBaseMs, TpotPerRequestMs, TpotPerContextTokenMs,
    ];

    /// <summary>The inverse of <see cref="ToArray"/>.</summary>
    public static LatencyModel FromArray(IReadOnlyList<double> p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.Count != ParameterCount)
        {
            throw new ArgumentException($"Expected {ParameterCount} coefficients, got {p.Count}.", nameof(p));
        }

        return new LatencyModel(p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
    }

    // Features of each curve, in ToArray's order; the fitter regresses observations on them.
    internal static double[] TtftFeatures(int inputTokens, double concurrency)
    {
        var others = Math.Max(0, concurrency - 1);
        return [1, inputTokens, inputTokens * others, others, 0, 0, 0];
    }

    internal static double[] TpotFeatures(double concurrency, double contextTokens)
    {
        var c = Math.Max(1, concurrency);
        return [0, 0, 0, 0, 1, c, c * contextTokens];
    }

    internal static double[] E2eFeatures(int inputTokens, int outputTokens, double concurrency)
    {
        var ttft = TtftFeatures(inputTokens, concurrency);
        var tpot = TpotFeatures(concurrency, MeanContextTokens(inputTokens, outputTokens));
        var steps = Math.Max(0, outputTokens - 1);
        for (var j = 0; j < ttft.Length; j++)
        {
            ttft[j] += steps * tpot[j];
        }

        return ttft;
    }
}

/// <summary>Throughput at one load level.</summary>
/// <param name="Concurrency">Requests kept in flight.</param>
/// <param name="RequestsPerSecond">Completed requests per second.</param>
/// <param name="OutputTokensPerSecond">Generated tokens per second.</param>
/// <param name="TotalTokensPerSecond">Prompt plus generated tokens per second (LLM-Inference-Bench's "Throughput").</param>
public readonly record struct ThroughputPoint(
    double Concurrency, double RequestsPerSecond, double OutputTokensPerSecond, double TotalTokensPerSecond);

/// <summary>A latency service-level objective; a bound left null is not checked. Milliseconds.</summary>
/// <param name="MaxTtftMs">Largest acceptable time to first token, ms.</param>
/// <param name="MaxTpotMs">Largest acceptable time per output token, ms.</param>
/// <param name="MaxE2eMs">Largest acceptable end-to-end latency, ms.</param>
public sealed record LatencySlo(double? MaxTtftMs = null, double? MaxTpotMs = null, double? MaxE2eMs = null)
{
    /// <summary>True when every bound that is set holds. A latency that was not measured (null) fails a bound
    /// that is set on it: an SLO cannot be shown to be met by a number nobody has.</summary>
    public bool IsMetBy(double? ttftMs, double? tpotMs, double? e2eMs) =>
        Within(ttftMs, MaxTtftMs) && Within(tpotMs, MaxTpotMs) && Within(e2eMs, MaxE2eMs);

    private static bool Within(double? value, double? bound) => bound is not { } b || (value is { } v && v <= b);
}
