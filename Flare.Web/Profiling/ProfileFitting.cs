using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Routing.Profiles;

namespace Flare.Web.Profiling;

/// <summary>
/// Fits a run's samples with <see cref="ProfileFitter"/> and stores the result as the deployment's next, active
/// version, with the throughput and cost per request at the run's median request shape: API prices when the
/// model has them, else GPU $/hour × GPUs / fitted saturation throughput (<see cref="RequestCost"/>).
/// </summary>
public sealed class ProfileFitting(ProfilingStore store)
{
    public async Task<Outcome<ProfileFitView>> FitRunAsync(int runId, CancellationToken ct = default)
    {
        var run = await store.GetRunAsync(runId, ct);
        if (run is null)
        {
            return Outcome<ProfileFitView>.NotFound($"Profiling run {runId} does not exist.");
        }

        var target = await store.GetTargetAsync(run.DeploymentId, ct);
        if (target is null)
        {
            return Outcome<ProfileFitView>.NotFound($"Deployment {run.DeploymentId} does not exist.");
        }

        var samples = (await store.ListSamplesAsync(runId, ct)).Select(s => s.Sample).ToList();
        var result = ProfileFitter.Fit(PointMedians(samples));
        if (!result.Succeeded)
        {
            return Outcome<ProfileFitView>.Invalid("samples", $"Run {runId} cannot be fitted: {result.Failure}");
        }

        return Outcome<ProfileFitView>.Ok(await store.SaveFitAsync(Describe(result.Fit, samples, target, run.DeploymentId, runId), ct));
    }

    /// <summary>
    /// One sample per measured point (input and output length, load), holding the medians of its successful
    /// requests, plus the error samples as they are. The fit is over grid points, not requests: a stalled request
    /// on a busy client (a burst of tokens read late gives a near-zero TPOT) would otherwise weigh heavily in the
    /// fitter's relative-error objective, and its cross-validation folds become grid points left out.
    /// </summary>
    public static IReadOnlyList<ProfileSample> PointMedians(IReadOnlyList<ProfileSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var points = samples.Where(s => !s.IsError)
            .GroupBy(s => (s.InputTokens, s.OutputTokens, s.Concurrency, s.RequestRatePerSecond))
            .Select(g => new ProfileSample(g.Key.InputTokens, g.Key.OutputTokens, g.Key.Concurrency,
                Median(g.Select(s => s.TtftMs)), Median(g.Select(s => s.TpotMs)), Median(g.Select(s => s.E2eMs)), false, g.Key.RequestRatePerSecond));
        return points.Concat(samples.Where(s => s.IsError)).ToList();
    }

    private static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.OfType<double>().Order().ToList();
        return sorted.Count == 0 ? null : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The fit with its reference shape, saturation throughput and cost (not yet stored: id and version 0).</summary>
    public static ProfileFitView Describe(ProfileFit fit, IReadOnlyList<ProfileSample> samples, ProfileTarget target, int deploymentId, int? runId)
    {
        ArgumentNullException.ThrowIfNull(fit);
        var ok = samples.Where(s => !s.IsError).ToList();
        var input = Median(ok.Select(s => s.InputTokens));
        var output = Median(ok.Select(s => s.OutputTokens));
        var saturation = fit.Model.SaturationThroughput(input, output, fit.MaxConcurrency);
        double? cost = null;
        string basis;
        if (target.InputPricePerMTokUsd is { } pin && target.OutputPricePerMTokUsd is { } pout)
        {
            cost = RequestCost.ApiUsd(input, output, pin, pout);
            basis = $"API prices: ${pin:0.###}/M input, ${pout:0.###}/M output tokens";
        }
        else if (target.GpuPricePerHourUsd > 0 && target.GpuCount > 0)
        {
            cost = RequestCost.SelfHostedUsd(target.GpuPricePerHourUsd, target.GpuCount, saturation.RequestsPerSecond);
            basis = $"${target.GpuPricePerHourUsd:0.###}/GPU-hour × {target.GpuCount} GPU(s) / {saturation.RequestsPerSecond:0.##} req/s (fitted saturation at c = {saturation.Concurrency:0})";
        }
        else
        {
            basis = "No API prices on the model and no GPU price: cost unknown.";
        }

        return new ProfileFitView(0, deploymentId, 0, runId, true, default, fit, input, output,
            saturation.RequestsPerSecond, saturation.OutputTokensPerSecond, cost, basis);
    }

    private static int Median(IEnumerable<int> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 1 : sorted[sorted.Count / 2];
    }
}
