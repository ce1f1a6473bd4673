using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;

namespace Flare.Tests.Routing.Estimation;

public sealed class HistoryEstimatorTests
{
    private static HistoryEstimator Empty(EstimatorOptions? options = null) =>
        new(new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(HashedNgramEmbedderOptions.Default.Dimensions), options);

    private static readonly HistoryEntry[] Rows =
    [
        new("translate the word cat into french", [new("a", 1, 10), new("b", 0, 100)]),
        new("translate the word dog into french", [new("a", 1, 20), new("b", 0, 200)]),
        new("translate the word bird into french", [new("a", 0.5, 40), new("b", 1, 400)]),
        new("prove that the square root of two is irrational", [new("a", 0, 800), new("b", 1, 900)]),
        new("prove that there are infinitely many primes", [new("a", 0, 700), new("b", 1, 1000)]),
    ];

    [Fact]
    public void Estimate_Shrinkage_IsSimilarityWeightedBayesianMean()
    {
        var options = new EstimatorOptions { K = 3, Shrinkage = 1.5, SimilarityPower = 2 };
        var estimator = HistoryEstimator.Build(Rows, new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(256), options);
        const string prompt = "translate the word horse into french";
        var query = new float[256];
        estimator.Embedder.Embed(prompt, query);
        var neighbours = estimator.Index.Search(query, 3);

        var estimate = estimator.Estimate(prompt).For("a")!;

        // (Σ w·s + m·prior) / (Σ w + m), w = cos², prior = mean of a's five scores.
        var prior = (1 + 1 + 0.5 + 0 + 0) / 5;
        var aScores = new[] { 1.0, 1.0, 0.5, 0, 0 };
        var w = neighbours.Select(n => Math.Pow(n.Similarity, 2)).ToArray();
        var expected = (neighbours.Select((n, i) => w[i] * aScores[n.Id]).Sum() + (1.5 * prior)) / (w.Sum() + 1.5);
        Assert.Equal(expected, estimate.Quality, 6);
        Assert.Equal(prior, estimate.PriorQuality, 9);
        Assert.Equal(3, estimate.Confidence.Neighbours);
        Assert.Equal(w.Sum() / (w.Sum() + 1.5), estimate.Confidence.DataWeight, 6);
        Assert.All(neighbours, n => Assert.InRange(n.Id, 0, 2)); // the three translation prompts
    }

    [Fact]
    public void Estimate_PortPlainMean_IsUnweightedMeanOfKNeighbours()
    {
        var estimator = HistoryEstimator.Build(Rows, new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(256));

        var estimate = estimator.Estimate("translate the word horse into french", EstimatorOptions.Port with { K = 3 });

        Assert.Equal((1 + 1 + 0.5) / 3, estimate.For("a")!.Quality, 9);
        Assert.Equal((0 + 0 + 1) / 3.0, estimate.For("b")!.Quality, 9);
        Assert.Equal((10 + 20 + 40) / 3.0, estimate.For("a")!.OutputTokens!.Value, 6);
        Assert.Equal(1.0, estimate.For("a")!.Confidence.DataWeight);
    }

    [Fact]
    public void Estimate_NoShrinkageAndNoWeightSpread_GivesNeighbourMean_LargeShrinkageGivesPrior()
    {
        var estimator = HistoryEstimator.Build(Rows, new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(256));

        var huge = estimator.Estimate("prove that seven is prime", new EstimatorOptions { K = 2, Shrinkage = 1e5, SimilarityPower = 1 }).For("b")!;
        var none = estimator.Estimate("prove that seven is prime", new EstimatorOptions { K = 2, Shrinkage = 0, SimilarityPower = 0 }).For("b")!;

        Assert.Equal(huge.PriorQuality, huge.Quality, 3);
        Assert.Equal(1.0, none.Quality, 9); // both proofs: b scored 1
        Assert.True(none.OutputTokens > 800, $"lengths of the proof neighbours, got {none.OutputTokens}");
    }

    [Fact]
    public void Add_FeedbackRow_ChangesLaterEstimatesForThatModelOnly()
    {
        var estimator = HistoryEstimator.Build(Rows, new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(256));
        const string prompt = "translate the word horse into french";
        var before = estimator.Estimate(prompt);

        estimator.Add(HistoryEntry.Feedback(prompt, "b", 1, outputTokens: 5));
        var after = estimator.Estimate(prompt);

        Assert.True(after.For("b")!.Quality > before.For("b")!.Quality + 0.1, $"{before.For("b")!.Quality} → {after.For("b")!.Quality}");
        Assert.True(after.For("b")!.OutputTokens < before.For("b")!.OutputTokens);
        Assert.Equal(before.For("a")!.Quality, after.For("a")!.Quality, 2);
        Assert.Equal(6, estimator.Count);
    }

    [Fact]
    public void Add_FeedbackForNewModel_AddsTheModelToEstimates()
    {
        var estimator = HistoryEstimator.Build(Rows, new HashedNgramEmbedder(), O200kTokenCounter.Shared, new ExactIndex(256));
        Assert.Null(estimator.Estimate("translate cat").For("c"));

        estimator.Add(HistoryEntry.Feedback("translate the word cat into german", "c", 0.9));

        var c = estimator.Estimate("translate cat").For("c")!;
        Assert.Equal(0.9, c.PriorQuality, 9);
        Assert.Equal(["a", "b", "c"], estimator.Models);
    }

    [Fact]
    public void Add_SamePromptTwice_IsOnePointWithTheMeanScore()
    {
        var estimator = Empty(new EstimatorOptions { K = 1 });
        var first = estimator.Add(HistoryEntry.Feedback("what is two plus two", "a", 1));
        var second = estimator.Add(HistoryEntry.Feedback("what is two plus two", "a", 0));

        Assert.Equal(first, second);
        Assert.Equal(1, estimator.Count);
        Assert.Equal(0.5, estimator.Estimate("what is two plus two").For("a")!.Quality, 9);
    }

    [Fact]
    public void Estimate_EmptyHistory_HasNoModels_AndCountsInputTokens()
    {
        var estimate = Empty().Estimate("Hello, world!");

        Assert.Empty(estimate.Models);
        Assert.Equal(4, estimate.InputTokens); // o200k: "Hello", ",", " world", "!"
    }

    [Fact]
    public void Estimate_Costs_AreShrunkLikeScores_AndNullWithoutAny()
    {
        var estimator = Empty(new EstimatorOptions { K = 1 });
        estimator.Add(new HistoryEntry("summarise this article about rivers", [new("a", 1, 100, 0.002), new("b", 0)]));

        var estimate = estimator.Estimate("summarise this article about rivers");

        Assert.Equal(0.002, estimate.For("a")!.CostUsd!.Value, 9);
        Assert.Null(estimate.For("b")!.CostUsd);
        Assert.Null(estimate.For("b")!.OutputTokens);
    }

    [Fact]
    public void Add_InvalidScore_Throws()
    {
        var estimator = Empty();
        Assert.Throws<ArgumentException>(() => estimator.Add(HistoryEntry.Feedback("x", "a", 1.5)));
        Assert.Throws<ArgumentException>(() => estimator.Add(HistoryEntry.Feedback("x", " ", 0.5)));
    }

    [Fact]
    public async Task Estimate_WhileAnotherThreadAdds_NeverFailsAndSeesGrowingHistory()
    {
        var estimator = new HistoryEstimator(new HashedNgramEmbedder(), O200kTokenCounter.Shared);
        var random = new Random(3);
        string[] words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta"];
        string Prompt() => string.Join(' ', Enumerable.Range(0, 6).Select(_ => words[random.Next(words.Length)]));
        var prompts = Enumerable.Range(0, 3000).Select(_ => Prompt()).ToList();
        var writer = Task.Run(() =>
        {
            foreach (var p in prompts)
            {
                estimator.Add(HistoryEntry.Feedback(p, p.Length % 2 == 0 ? "even" : "odd", p.Length % 3 / 2.0));
            }
        });

        var estimates = 0;
        while (!writer.IsCompleted)
        {
            var e = estimator.Estimate("alpha beta gamma delta");
            Assert.All(e.Models, m => Assert.InRange(m.Quality, 0, 1));
            estimates++;
        }

        await writer;
        Assert.True(estimates > 0);
        Assert.Equal(2, estimator.Estimate("alpha beta gamma delta").Models.Count);
    }
}
