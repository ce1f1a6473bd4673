using Flare.Emulator.Hosting;
using Flare.Emulator.Profiles;

namespace Flare.Emulator.Engine;

/// <summary>
/// Everything random about one request, drawn from (backend seed, request ordinal) alone so that a run can be
/// repeated exactly: the faults it meets and, when not forced, its output length.
/// </summary>
internal readonly record struct RequestPlan(int? ErrorStatus, double SpikeMs, double StallMs, bool Disconnect, double LengthQuantile)
{
    private const ulong ErrorStream = 1, SpikeStream = 2, StallStream = 3, DisconnectStream = 4, LengthStream = 5;

    public static RequestPlan For(int seed, long ordinal, EmulatorFaultOptions faults) => new(
        Uniform(seed, ordinal, ErrorStream) < faults.ErrorRate ? faults.ErrorStatusCode : null,
        Uniform(seed, ordinal, SpikeStream) < faults.SpikeProbability ? faults.SpikeMs : 0,
        faults.FirstTokenStallMs > 0 && Uniform(seed, ordinal, StallStream) < faults.FirstTokenStallProbability ? faults.FirstTokenStallMs : 0,
        Uniform(seed, ordinal, DisconnectStream) < faults.DisconnectProbability,
        Uniform(seed, ordinal, LengthStream));

    /// <summary>
    /// Output tokens of a request: the forced count if given; <paramref name="maxTokens"/> with ignore_eos or
    /// min_tokens ≥ max_tokens; otherwise a draw from the profile's lognormal, clamped to [max(1, min_tokens), max_tokens].
    /// </summary>
    public int OutputTokens(EmulatorProfile profile, int maxTokens, int minTokens, bool ignoreEos, int? forced)
    {
        if (forced is { } f)
        {
            return Math.Clamp(f, 1, maxTokens);
        }

        if (ignoreEos || minTokens >= maxTokens)
        {
            return maxTokens;
        }

        var z = InverseNormal(LengthQuantile);
        var drawn = (int)Math.Round(Math.Exp(profile.OutputLogMean + profile.OutputLogStdDev * z));
        return Math.Clamp(drawn, Math.Max(1, minTokens), maxTokens);
    }

    /// <summary>A uniform number in (0, 1) from SplitMix64 over (seed, ordinal, stream).</summary>
    internal static double Uniform(int seed, long ordinal, ulong stream)
    {
        var x = ((ulong)(uint)seed << 32) ^ (ulong)ordinal * 0x9E3779B97F4A7C15UL ^ stream * 0xD1B54A32D192ED03UL;
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return ((x >> 11) + 0.5) / (1UL << 53);
    }

    // Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
    private static double InverseNormal(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double Low = 0.02425;
        if (p < Low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }

        if (p > 1 - Low)
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }

        var r = p - 0.5;
        var s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }
}
