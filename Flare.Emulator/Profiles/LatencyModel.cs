using Flare.Emulator.Engine;

namespace Flare.Emulator.Profiles;

/// <summary>Expected latency of a burst of identical requests, in simulated milliseconds.</summary>
/// <param name="MeanTtftMs">Mean time from arrival to the first token.</param>
/// <param name="MeanTpotMs">Mean time per output token after the first: (last token − first token) / (output − 1).</param>
/// <param name="BatchLatencyMs">Time until the last request of the burst has its last token.</param>
public readonly record struct BurstPrediction(double MeanTtftMs, double MeanTpotMs, double BatchLatencyMs);

/// <summary>What a profile predicts, computed from its coefficients without running a server.</summary>
public static class LatencyModel
{
    /// <summary>
    /// Closed form for <paramref name="concurrency"/> requests arriving together while the engine is idle, when they
    /// all fit one prefill step and the KV cache (else null): TTFT = w + a + b·c·L_in for every request, and every
    /// decode step holds all c sequences, so TPOT = c₀ + d·c + e·c·(L_in + L_out/2) (the mean context over steps
    /// k = 1 … L_out − 1 is L_in + k, averaging L_in + L_out/2).
    /// </summary>
    /// <param name="wakeDelayMs">The backend's <c>WakeDelayMs</c> (added to TTFT).</param>
    public static BurstPrediction? PredictBurst(EmulatorProfile profile, int concurrency, int inputTokens, int outputTokens, double wakeDelayMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 2);
        if ((long)concurrency * inputTokens > profile.MaxBatchedTokens
            || (long)concurrency * (inputTokens + outputTokens) > profile.KvCacheTokens
            || concurrency > profile.MaxNumSeqs)
        {
            return null;
        }

        var ttft = wakeDelayMs + profile.PrefillMs((long)concurrency * inputTokens);
        var tpot = profile.DecodeBaseMs + profile.DecodePerSequenceMs * concurrency
            + profile.DecodePerContextTokenMs * concurrency * (inputTokens + outputTokens / 2.0);
        return new BurstPrediction(ttft, tpot, ttft + (outputTokens - 1) * tpot);
    }

    /// <summary>
    /// Any burst, by running the emulator's scheduler in virtual time (multiple prefill steps, KV-cache queueing).
    /// </summary>
    public static BurstPrediction SimulateBurst(EmulatorProfile profile, int concurrency, int inputTokens, int outputTokens, double wakeDelayMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputTokens, 2);
        var scheduler = new BatchScheduler(profile);
        var first = new Dictionary<Sequence, double>();
        var sequences = Enumerable.Range(0, concurrency).Select(_ => new Sequence(inputTokens, outputTokens)).ToList();
        sequences.ForEach(scheduler.Enqueue);
        var now = wakeDelayMs;
        double ttft = 0, tpot = 0;
        while (scheduler.Step() != StepKind.Idle)
        {
            now += scheduler.LastDurationMs;
            foreach (var s in scheduler.LastEmitted)
            {
                if (s.Generated == 1)
                {
                    first[s] = now;
                    ttft += now;
                }

                if (s.IsFinished)
                {
                    tpot += (now - first[s]) / (outputTokens - 1);
                }
            }
        }

        return new BurstPrediction(ttft / concurrency, tpot / concurrency, now);
    }
}
