using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;
using Flare.Routing.Profiles;
using Flare.Routing.Registry;
using Flare.Routing.Routing;

namespace Flare.Tests.Routing.Routing;

public sealed class CandidateEstimatorTests
{
    // TTFT = 50 + 0.1·L_in + 0.01·L_in·(c−1) + 5·(c−1); TPOT = 10 + 1·c + 0·c·ctx.
    internal static readonly LatencyModel Curves = new(50, 0.1, 0.01, 5, 10, 1, 0);

    internal static ProfileSnapshot Profiles(params int[] deploymentIds)
    {
        var good = new CurveFitQuality(100, 0.99, 0.05, 0.05, FitVerdict.Good, null);
        return new ProfileSnapshot(1, deploymentIds.ToDictionary(id => id,
            id => new DeploymentProfile(id, 1, new ProfileFit(Curves, good, good, good, 100, 0, 16), DateTime.UnixEpoch)));
    }

    private static readonly DeploymentTarget Api = new(1, "api", "api-model", "m", DeploymentKind.Api, "http://x", null, 8, 1.0, 2.0, 0);
    private static readonly DeploymentTarget Gpu = new(2, "gpu", "gpu-model", "m", DeploymentKind.SelfHosted, "http://y", null, 8, null, null, 3.6);

    [Fact]
    public void For_ProfiledApiDeployment_LatencyFromTheCurvesAtItsLoad_CostFromPrices()
    {
        var e = CandidateEstimator.For(Api, 3, null, 200, null, Profiles(1), EstimationDefaults.Default);

        // c = 3 (L̂ = 256 default), far from prefill saturation (R = 2·70 / (255·13) = 0.04, σ ≈ 0): the others' prompts
        // (0.01·200·2) are spread over the decode steps. TTFT = 50 + 20 + 5·2 + ½·13 = 86.5; e2e = 86.5 + 255·13 + 4 = 3,405.5.
        Assert.Equal(86.5, e.TtftMs, 9);
        Assert.Equal(3405.5, e.LatencyMs, 9);
        Assert.Equal((200 * 1.0 + 256 * 2.0) / 1e6, e.CostUsd, 12);
        Assert.Equal(0.5, e.Quality);
        Assert.Equal(EstimateSource.Default, e.Source);
    }

    [Fact]
    public void For_UnprofiledSelfHosted_DefaultLatency_GpuTimeShared()
    {
        var defaults = new EstimationDefaults { UnprofiledTtftMs = 400, UnprofiledTpotMs = 10, OutputTokens = 100 };

        var e = CandidateEstimator.For(Gpu, 2, null, 50, maxOutputTokens: 41, ProfileSnapshot.Empty, defaults);

        // L̂ capped at max_tokens 41: e2e = 400 + 40·10 = 800 ms; $3.6/h = $0.001/s × 0.8 s / 2 in flight.
        Assert.Equal(41, e.OutputTokens);
        Assert.Equal(800, e.LatencyMs, 9);
        Assert.Equal(0.0004, e.CostUsd, 12);
    }

    [Fact]
    public void For_WithHistory_QualityAndLengthFromTheEstimate_ModelWithoutScoresUsesDefaults()
    {
        var estimator = HistoryEstimator.Build(
            [
                new("translate the word cat into french", [new("api-model", 0.9, 30)]),
                new("translate the word dog into french", [new("api-model", 0.8, 30)]),
            ],
            new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(HashedNgramEmbedderOptions.Default.Dimensions));
        var prompt = estimator.Estimate("translate the word cow into french");
        Candidate[] candidates = [new(Api, new DeploymentState()), new(Gpu, new DeploymentState())];

        CandidateEstimator.Estimate(candidates, prompt, prompt.InputTokens, null, ProfileSnapshot.Empty, EstimationDefaults.Default);

        Assert.Equal(EstimateSource.History, candidates[0].Estimate.Source);
        Assert.InRange(candidates[0].Estimate.Quality, 0.8, 0.9);
        Assert.Equal(30, candidates[0].Estimate.OutputTokens, 6);
        Assert.Equal(EstimateSource.Default, candidates[1].Estimate.Source);
        Assert.Equal(0.5, candidates[1].Estimate.Quality);
    }
}
