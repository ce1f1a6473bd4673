using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;

namespace Flare.Tests.Routing.Estimation;

public sealed class HnswIndexTests
{
    // Clustered unit vectors, like prompt embeddings: centres plus noise.
    private static List<float[]> Clustered(int count, int dim, int clusters, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray()).ToList();
        var result = new List<float[]>(count);
        for (var i = 0; i < count; i++)
        {
            var c = centres[random.Next(clusters)];
            var v = c.Select(x => x + (((float)random.NextDouble() - 0.5f) * 0.8f)).ToArray();
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            result.Add([.. v.Select(x => x / norm)]);
        }

        return result;
    }

    [Fact]
    public void Search_ClusteredVectors_RecallAt10AgainstExactIsAtLeast095()
    {
        var vectors = Clustered(4000, 64, 40, seed: 1);
        var hnsw = new HnswIndex(64);
        var exact = new ExactIndex(64);
        foreach (var v in vectors)
        {
            hnsw.Add(v);
            exact.Add(v);
        }

        var queries = Clustered(200, 64, 40, seed: 2);
        var recall = queries.Average(q =>
        {
            var truth = exact.Search(q, 10).Select(n => n.Id).ToHashSet();
            return hnsw.Search(q, 10).Count(n => truth.Contains(n.Id)) / 10.0;
        });

        Assert.True(recall >= 0.95, $"recall@10 = {recall}");
    }

    [Fact]
    public void Search_ReturnsMostSimilarFirst_WithCosineSimilarity()
    {
        var index = new HnswIndex(2);
        index.Add([1, 0]);
        index.Add([0, 1]);
        index.Add([MathF.Sqrt(0.5f), MathF.Sqrt(0.5f)]);

        var found = index.Search([1, 0], 3);

        Assert.Equal([0, 2, 1], found.Select(n => n.Id));
        Assert.Equal(1f, found[0].Similarity, 5);
        Assert.Equal(MathF.Sqrt(0.5f), found[1].Similarity, 5);
    }

    [Fact]
    public void Build_SameVectorsSameSeed_GivesSameAnswers()
    {
        var vectors = Clustered(1500, 32, 10, seed: 5);
        var a = new HnswIndex(32, new HnswOptions { Seed = 7 });
        var b = new HnswIndex(32, new HnswOptions { Seed = 7 });
        foreach (var v in vectors)
        {
            a.Add(v);
            b.Add(v);
        }

        foreach (var q in Clustered(20, 32, 10, seed: 6))
        {
            Assert.Equal(a.Search(q, 5), b.Search(q, 5));
        }
    }

    [Fact]
    public async Task Search_DuringConcurrentInserts_ReturnsValidIdsAndFindsEarlierVectors()
    {
        var vectors = Clustered(6000, 32, 30, seed: 9);
        var index = new HnswIndex(32);
        foreach (var v in vectors.Take(100))
        {
            index.Add(v);
        }

        var writer = Task.Run(() =>
        {
            foreach (var v in vectors.Skip(100))
            {
                index.Add(v);
            }
        });
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var searches = 0;
            while (!writer.IsCompleted)
            {
                var q = vectors[(searches * 7 + r) % 100];
                var found = index.Search(q, 5);
                Assert.NotEmpty(found);
                Assert.All(found, n => Assert.InRange(n.Id, 0, vectors.Count - 1));
                searches++;
            }
        })).ToArray();

        await Task.WhenAll([writer, .. readers]);
        Assert.Equal(vectors.Count, index.Count);
        var selfFound = vectors.Take(500).Count(v => index.Search(v, 5)[0].Similarity > 0.999f);
        Assert.True(selfFound >= 490, $"{selfFound} of 500 indexed vectors found themselves first");
    }

    [Fact]
    public void Recall_OfEstimatorIndex_IsMeasuredAgainstExactSearch()
    {
        var rows = Enumerable.Range(0, 300).Select(i => HistoryEntry.Feedback($"question number {i} about topic {i % 17}", "m", i % 2)).ToList();
        var estimator = HistoryEstimator.Build(rows, new HashedNgramEmbedder(), O200kTokenCounter.Shared);

        var recall = EstimatorEvaluation.Recall(estimator, ["question about topic 3", "number 250"], 10);

        Assert.Equal(2, recall.Queries);
        Assert.True(recall.Recall >= 0.9, $"recall {recall.Recall}");
    }
}
