namespace Flare.Routing.Profiles;

/// <summary>
/// A deployment's fitted, length- and load-aware latency curves (ROUTING.md §3). All coefficients are
/// non-negative; "load" is concurrency <c>c</c> ≥ 1, the requests in flight including the one predicted, and the
/// others in flight are taken to be like it (same prompt and output length), as in a sweep grid.
/// <code>
/// P            = a + b·L_in                                  one prefill alone
/// D(c, ctx)    = d + e·c + f·c·ctx,   ctx = L_in + L_out/2     one decode step of c sequences
/// R            = (c − 1)·P / ((L_out − 1)·D)                  the others' prefill work over my decode time
/// σ            = Rᵏ / (1 + Rᵏ),  k = 12                        share of the others' prefills that land before my first token
/// n            = max(1, ⌊M / L_in⌋)                           prompts prefilled per step under the token budget M
/// φ            = mean over c of (prompts batched with and before mine) / (c − 1)    share of the others waited for (1 if n ≥ c)
/// TTFT         = P + σ·φ·(c − 1)·g·L_in + h·(c − 1) + (1 − σ)·½·D·[c > 1]
/// TPOT         = D + (1 − σ·φ)·(c − 1)·g·L_in / (L_out − 1)
/// e2e          = TTFT + (L_out − 1)·TPOT
/// </code>
/// Without a budget (M null, "no cap") φ = 1 and the form is the seven-coefficient one.
/// </summary>
/// <remarks>
/// <para>Why this form. A prefill is compute-bound, so its time grows linearly with the prompt tokens
/// (<c>P = a + b·L_in</c>). A decode step reads the weights once (<c>d</c>), does per-sequence work (<c>e·c</c>) and
/// attends over the KV cache of every running sequence (<c>f·c·ctx</c>, ctx the mean tokens a sequence holds while it
/// decodes); this is the step-time model the emulator reproduces vLLM with (docs/emulator-calibration.md).</para>
/// <para>Load, by work conservation. A server that runs prefills before decodes (vLLM's scheduler) must, during one
/// request's life at load c, also prefill each of the c − 1 others once (in steady state every request goes round
/// once per round of the others): that costs <c>(c − 1)·g·L_in</c> of its e2e, with <c>g ≈ b</c> their prompt work.
/// Where that time falls decides TTFT versus TPOT. While the others' prefills fit in a request's decode phase
/// (R &lt; 1: prefill utilisation below 1) they interrupt its decode steps and show in TPOT, and a new request waits
/// only for the step in progress (on average half a decode step, <c>½·D</c>). Once they do not (R &gt; 1: the server
/// is prefill-bound), arrivals queue, are prefilled in batches and wait for the other prompts before their first
/// token: the prompt work moves into TTFT. <c>h·(c − 1)</c> is what every other request in flight adds to the wait
/// regardless (scheduling, its share of step overheads).
/// The switch between the two regimes is sharp (a closed loop of equal requests falls into lock-step once prefill
/// saturates), hence σ, a steep logistic in R centred on R = 1 (prefill utilisation 1). The exponent k is its
/// steepness, fixed rather than fitted, and stored with each fit (<see cref="PrefillShareSteepness"/>) so that a fit
/// reads as it was fitted. New fits use 12: on eight measured emulator runs the σ implied by each load cell's mean TTFT was
/// ≈ 0 up to R ≈ 0.5, ≈ 0.45 at R ≈ 0.9 and ≈ 0.95 at R ≈ 1.2 (docs/benchmarks.md, "Profiling"), a switch narrower than
/// k = 8, which fits stored before 2026-11-23 have. e2e depends on σ only through the half decode step.</para>
/// <para>The prefill token budget. A server caps the prompt tokens it prefills in one step (vLLM's
/// <c>max_num_batched_tokens</c>, 8192 by default without chunked prefill), so in lock-step the c requests are prefilled
/// in ⌈c/n⌉ batches of n = ⌊M/L_in⌋ prompts (at least one: a prompt longer than the budget goes alone). A request's
/// first token comes when its own batch is done: on average it waits for (⌈c/n⌉ + 1)/2 batches, i.e. that many times n
/// prompts less its own, which is the share φ of the c − 1 others. The rest of the others' prefills run after its first
/// token, during its decode, so they move to TPOT; e2e is unchanged (work conservation). Without this, 16 requests of
/// 2,048 tokens were predicted to wait for all 15 other prompts, where the emulator (budget 8,192) prefills them four at a
/// time (docs/benchmarks.md, "Profiling"). The budget is not linear in anything; <see cref="ProfileFitter"/> finds it by
/// a search. Null means no cap (φ = 1): fits stored before the budget existed read exactly as they did.</para>
/// <para>For a given σ every term is linear in the seven coefficients, so <see cref="ProfileFitter"/> fits them by
/// non-negative least squares and recomputes σ from the fit (alternating); the coefficients are physical times and
/// must not be negative. Curves are non-decreasing in input tokens and context, except that under a prefill budget TTFT
/// steps down where one prompt fewer fits a step (L_in just above M/n: the batches are smaller, so fewer prompts are
/// waited for); in load they are non-decreasing except that TPOT may drop where the regime switches (the others'
/// prompts move from TPOT into TTFT), as measured.
/// R divides by the decode time, so a request with one output token (no decode phase) has σ = 1.</para>
/// <para>History: until 2026-11-22 the form was <c>TTFT = a + b·L_in + g·L_in·(c − 1) + h·(c − 1)</c>,
/// <c>TPOT = d + e·c + f·c·ctx</c>, which cannot express that TTFT under load depends on the output length (docs/
/// profile-fits.md). The coefficient columns are the same; g is now split between TTFT and TPOT by σ, and TTFT gains
/// the half decode step, so a fit stored before then reads differently: re-fit its run.</para>
/// <para>The prefill token budget (<c>M</c>) was added later the same day as a nullable column; a fit stored without it has
/// M null, φ = 1, and reads as the seven-coefficient form it was fitted with.</para>
/// </remarks>
/// <param name="TtftBaseMs"><c>a</c>: fixed cost of a prefill alone (scheduling, one forward pass), ms.</param>
/// <param name="TtftPerInputTokenMs"><c>b</c>: prefill time per prompt token, ms/token.</param>
/// <param name="TtftPerQueuedInputTokenMs"><c>g</c>: time another request in flight adds per token of its prompt (its prefill work), to TTFT
/// (share σ) or spread over the decode steps (1 − σ), ms/token.</param>
/// <param name="TtftPerQueuedRequestMs"><c>h</c>: wait per other request in flight, ms.</param>
/// <param name="TpotBaseMs"><c>d</c>: fixed decode step time, ms.</param>
/// <param name="TpotPerRequestMs"><c>e</c>: decode step time per running request, ms.</param>
/// <param name="TpotPerContextTokenMs"><c>f</c>: decode step time per context token held by a running request, ms/token.</param>
/// <param name="TtftPrefillTokensPerStep"><c>M</c>: the most prompt tokens the server prefills in one step, tokens; null (the
/// default) for no cap. Not one of the linear coefficients of <see cref="ToArray"/>.</param>
/// <param name="PrefillShareSteepness"><c>k</c>: the exponent of σ (class remarks); fixed, not fitted. Default
/// <see cref="SwitchSteepness"/>; fits stored before it was a parameter have 8.</param>
public sealed record LatencyModel(
    double TtftBaseMs,
    double TtftPerInputTokenMs,
    double TtftPerQueuedInputTokenMs,
    double TtftPerQueuedRequestMs,
    double TpotBaseMs,
    double TpotPerRequestMs,
    double TpotPerContextTokenMs,
    double? TtftPrefillTokensPerStep = null,
    double PrefillShareSteepness = LatencyModel.SwitchSteepness)
{
    /// <summary>Number of linear coefficients, in the order of <see cref="ToArray"/> (the prefill token budget is not one).</summary>
    public const int ParameterCount = 7;

    /// <summary>Steepness k of σ around R = 1 that new fits use (see the class remarks). Fixed, not fitted.</summary>
    public const double SwitchSteepness = 12;

    /// <summary>The steepness every fit stored before 2026-11-23 was made with.</summary>
    public const double EarlierSwitchSteepness = 8;

    /// <summary>Mean context a sequence holds while it decodes: its prompt plus half its output, in tokens.</summary>
    public static double MeanContextTokens(int inputTokens, int outputTokens) => inputTokens + outputTokens / 2.0;

    /// <summary>Predicted time to first token of a request of these lengths at <paramref name="concurrency"/> requests in flight, in ms.</summary>
    public double TtftMs(int inputTokens, int outputTokens, double concurrency) =>
        TtftMs(inputTokens, outputTokens, concurrency, PrefillShare(inputTokens, outputTokens, concurrency));

    /// <summary>Predicted time per output token after the first, in ms.</summary>
    public double TpotMs(int inputTokens, int outputTokens, double concurrency) =>
        TpotMs(inputTokens, outputTokens, concurrency, PrefillShare(inputTokens, outputTokens, concurrency));

    /// <summary>Predicted end-to-end latency, in ms: TTFT + (L_out − 1)·TPOT (FLARE, ROUTING.md §2.1).</summary>
    public double E2eMs(int inputTokens, int outputTokens, double concurrency)
    {
        var share = PrefillShare(inputTokens, outputTokens, concurrency);
        return TtftMs(inputTokens, outputTokens, concurrency, share)
            + Math.Max(0, outputTokens - 1) * TpotMs(inputTokens, outputTokens, concurrency, share);
    }

    // The curves for a given σ, written out rather than as a dot product with the features: the request path evaluates
    // them per candidate and must not allocate. LatencyModelTests checks that both agree.
    private double TtftMs(int inputTokens, int outputTokens, double concurrency, double share)
    {
        var others = Math.Max(1, concurrency) - 1;
        var residual = others > 0 ? 0.5 * (1 - share) * DecodeStepMs(inputTokens, outputTokens, concurrency) : 0;
        var waited = share * BatchWaitShare(TtftPrefillTokensPerStep, inputTokens, concurrency);
        return TtftBaseMs + TtftPerInputTokenMs * inputTokens + waited * others * TtftPerQueuedInputTokenMs * inputTokens
            + TtftPerQueuedRequestMs * others + residual;
    }

    private double TpotMs(int inputTokens, int outputTokens, double concurrency, double share)
    {
        var others = Math.Max(1, concurrency) - 1;
        var waited = share * BatchWaitShare(TtftPrefillTokensPerStep, inputTokens, concurrency);
        var spread = outputTokens > 1 ? (1 - waited) * others * TtftPerQueuedInputTokenMs * inputTokens / (outputTokens - 1) : 0;
        return DecodeStepMs(inputTokens, outputTokens, concurrency) + spread;
    }

    /// <summary>
    /// φ: the share of the c − 1 other prompts a request waits for when all c are prefilled in lock-step under a budget
    /// of <paramref name="prefillTokensPerStep"/> prompt tokens per step (class remarks): n = max(1, ⌊M/L_in⌋) prompts a
    /// step in k = ⌈c/n⌉ batches, the last of r = c − (k − 1)·n; a request in batch j waits for the j·n − 1 prompts
    /// batched with and before it (c − 1 in the last), so φ = [n²·k(k − 1)/2 − n·(k − 1) + r·(c − 1)] / (c·(c − 1)).
    /// With full batches that is ((k + 1)/2·n − 1)/(c − 1). 1 without a budget or when one batch holds all c.
    /// </summary>
    public static double BatchWaitShare(double? prefillTokensPerStep, int inputTokens, double concurrency)
    {
        var others = concurrency - 1;
        if (prefillTokensPerStep is not { } budget || others <= 0)
        {
            return 1;
        }

        var perStep = Math.Max(1, Math.Floor(budget / Math.Max(1, inputTokens)));
        if (perStep >= concurrency)
        {
            return 1;
        }

        // Batches 1 … k − 1 hold n prompts each, the last r = c − (k − 1)·n; a request in batch j < k waits for j·n − 1
        // others, one in the last batch for all c − 1. The mean over the c requests, as a share of the c − 1 others:
        var batches = Math.Ceiling(concurrency / perStep);
        var last = concurrency - (batches - 1) * perStep;
        var waited = (perStep * perStep * (batches - 1) * batches / 2 - perStep * (batches - 1) + last * others) / concurrency;
        return Math.Clamp(waited / others, 0, 1);
    }

    /// <summary>Duration of one decode step of <paramref name="concurrency"/> sequences of these lengths, ms: d + e·c + f·c·ctx.</summary>
    public double DecodeStepMs(int inputTokens, int outputTokens, double concurrency)
    {
        var c = Math.Max(1, concurrency);
        return TpotBaseMs + TpotPerRequestMs * c + TpotPerContextTokenMs * c * MeanContextTokens(inputTokens, outputTokens);
    }

    /// <summary>
    /// σ: the share of the other requests' prefills that a request waits for before its first token, from the ratio R
    /// of their prefill work to its decode time (class remarks). 0 alone; 1 without a decode phase.
    /// </summary>
    public double PrefillShare(int inputTokens, int outputTokens, double concurrency)
    {
        var others = Math.Max(0, concurrency - 1);
        if (others == 0)
        {
            return 0;
        }

        var decode = Math.Max(0, outputTokens - 1) * DecodeStepMs(inputTokens, outputTokens, concurrency);
        var prefill = others * (TtftBaseMs + TtftPerInputTokenMs * Math.Max(0, inputTokens));
        if (decode <= 0)
        {
            return prefill > 0 || outputTokens <= 1 ? 1 : 0;
        }

        var r = Math.Pow(prefill / decode, PrefillShareSteepness);
        return double.IsPositiveInfinity(r) ? 1 : r / (1 + r);
    }

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
        for (var c = 1; c <= Math.Max(1, Math.Floor(maxConcurrency)); c++)
        {
            if (!slo.IsMetBy(TtftMs(inputTokens, outputTokens, c), TpotMs(inputTokens, outputTokens, c), E2eMs(inputTokens, outputTokens, c)))
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

    /// <summary>The linear coefficients in declaration order (a, b, g, h, d, e, f); not the prefill token budget.</summary>
    public double[] ToArray() =>
    [
        TtftBaseMs, TtftPerInputTokenMs, TtftPerQueuedInputTokenMs, TtftPerQueuedRequestMs,
        TpotBaseMs, TpotPerRequestMs, TpotPerContextTokenMs,
    ];

    /// <summary>The inverse of <see cref="ToArray"/>, with the prefill token budget given apart (null: no cap).</summary>
    public static LatencyModel FromArray(IReadOnlyList<double> p, double? prefillTokensPerStep = null)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.Count != ParameterCount)
        {
            throw new ArgumentException($"Expected {ParameterCount} coefficients, got {p.Count}.", nameof(p));
        }

        return new LatencyModel(p[0], p[1], p[2], p[3], p[4], p[5], p[6], prefillTokensPerStep);
    }

    // Features of each curve for a given σ (share) and φ (batchShare, BatchWaitShare), in ToArray's order: the curve is
    // their dot product with the coefficients, linear once σ and φ are fixed, which is how the fitter regresses
    // observations on them.
    internal static double[] TtftFeatures(int inputTokens, int outputTokens, double concurrency, double share, double batchShare = 1)
    {
        var c = Math.Max(1, concurrency);
        var others = c - 1;
        var ctx = MeanContextTokens(inputTokens, outputTokens);
        // Half a decode step in progress when the server is busy (the mean residual of a step a request arrives in).
        var residual = others > 0 ? 0.5 * (1 - share) : 0;
        return [1, inputTokens, share * batchShare * others * inputTokens, others, residual, residual * c, residual * c * ctx];
    }

    internal static double[] TpotFeatures(int inputTokens, int outputTokens, double concurrency, double share, double batchShare = 1)
    {
        var c = Math.Max(1, concurrency);
        var others = c - 1;
        var ctx = MeanContextTokens(inputTokens, outputTokens);
        var spread = outputTokens > 1 ? (1 - share * batchShare) * others / (outputTokens - 1) : 0;
        return [0, 0, spread * inputTokens, 0, 1, c, c * ctx];
    }

    internal static double[] E2eFeatures(int inputTokens, int outputTokens, double concurrency, double share, double batchShare = 1)
    {
        var ttft = TtftFeatures(inputTokens, outputTokens, concurrency, share, batchShare);
        var tpot = TpotFeatures(inputTokens, outputTokens, concurrency, share, batchShare);
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
