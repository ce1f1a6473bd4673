using Flare.Emulator.Engine;
using Flare.Emulator.Profiles;

namespace Flare.Emulator.Calibration;

/// <summary>
/// Sums of what the latency model multiplies by its five coefficients: a simulated duration is
/// <c>a·PrefillSteps + b·PrefillTokens + c·DecodeSteps + d·DecodeSequences + e·DecodeContext</c> (ms).
/// </summary>
internal readonly record struct StepFeatures(
    double PrefillSteps, double PrefillTokens, double DecodeSteps, double DecodeSequences, double DecodeContext)
{
    public const int Count = 5;

    public double this[int i] => i switch
    {
        0 => PrefillSteps,
        1 => PrefillTokens,
        2 => DecodeSteps,
        3 => DecodeSequences,
        4 => DecodeContext,
        _ => throw new ArgumentOutOfRangeException(nameof(i)),
    };

    public static StepFeatures operator +(StepFeatures x, StepFeatures y) => new(
        x.PrefillSteps + y.PrefillSteps, x.PrefillTokens + y.PrefillTokens, x.DecodeSteps + y.DecodeSteps,
        x.DecodeSequences + y.DecodeSequences, x.DecodeContext + y.DecodeContext);

    public static StepFeatures operator *(StepFeatures x, double k) => new(
        x.PrefillSteps * k, x.PrefillTokens * k, x.DecodeSteps * k, x.DecodeSequences * k, x.DecodeContext * k);

    public double Dot(IReadOnlyList<double> theta)
    {
        var sum = 0.0;
        for (var i = 0; i < Count; i++)
        {
            sum += this[i] * theta[i];
        }

        return sum;
    }

    /// <summary>
    /// Runs <paramref name="batch"/> identical requests that all arrive at time 0 (the offline benchmark of
    /// LLM-Inference-Bench) through <see cref="BatchScheduler"/>; returns the features of the whole batch
    /// (its latency) and the mean of the features at each request's first token (its mean TTFT).
    /// Only the profile's scheduling limits are used, never its coefficients.
    /// </summary>
    public static (StepFeatures Batch, StepFeatures MeanFirstToken) SimulateBurst(
        EmulatorProfile limits, int batch, int inputTokens, int outputTokens)
    {
        var scheduler = new BatchScheduler(limits);
        for (var i = 0; i < batch; i++)
        {
            scheduler.Enqueue(new Sequence(inputTokens, outputTokens));
        }

        var total = default(StepFeatures);
        var firstTokens = default(StepFeatures);
        while (scheduler.Step() != StepKind.Idle)
        {
            if (scheduler.LastKind == StepKind.Prefill)
            {
                total += new StepFeatures(1, scheduler.LastPrefillTokens, 0, 0, 0);
                firstTokens += total * scheduler.LastBatch;
            }
            else
            {
                total += new StepFeatures(0, 0, 1, scheduler.LastBatch, scheduler.LastContextTokens);
            }
        }

        return (total, firstTokens * (1.0 / batch));
    }
}
