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

    private static double RecallAt10(HnswIndex hnsw, List<float[]> vectors, List<float[]> queries)
    {
        var exact = new ExactIndex(hnsw.Dimensions);
        foreach (var v in vectors)
        {
            hnsw.Add(v);
            exact.Add(v);
        }

        return queries.Average(q =>
        {
            var truth = exact.Search(q, 10).Select(n => n.Id).ToHashSet();
            return hnsw.Search(q, 10).Count(n => truth.Contains(n.Id)) / 10.0;
        });
    }

    // Prompt-like texts built as docs/benchmarks.md's estimator benchmark builds its history from real questions,
    // here from 500 base prompts of Zipf-distributed pseudo-words (16 copies each, as there): a 3–10-word clause of
    // another base spliced at the start or end, each word dropped (5%), replaced (5%) or swapped with the next (3%),
    // a number appended.
    private static List<string> Prompts(int count, int seed)
    {
        var words = new Random(0);
        var vocabulary = Enumerable.Range(0, 3000).Select(_ => new string([.. Enumerable.Range(0, 2 + words.Next(8)).Select(_ => (char)('a' + words.Next(26)))])).ToArray();
        string Word(Random r) => vocabulary[(int)(vocabulary.Length * Math.Pow(r.NextDouble(), 3))];
        var bases = Enumerable.Range(0, 500).Select(_ => Enumerable.Range(0, 8 + words.Next(40)).Select(_ => Word(words)).ToArray()).ToArray();
        var random = new Random(seed);
        var result = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var prompt = new List<string>(bases[random.Next(bases.Length)]);
            var other = bases[random.Next(bases.Length)];
            var clause = other.Skip(random.Next(other.Length)).Take(3 + random.Next(8));
            if (random.Next(2) == 0)
            {
                prompt.AddRange(clause);
            }
            else
            {
                prompt.InsertRange(0, clause);
            }

            for (var w = 0; w < prompt.Count; w++)
            {
                var roll = random.NextDouble();
                if (roll < 0.05 && prompt.Count > 3)
                {
                    prompt.RemoveAt(w);
                }
                else if (roll < 0.10)
                {
                    prompt[w] = Word(random);
                }
                else if (roll < 0.13 && w + 1 < prompt.Count)
                {
                    (prompt[w], prompt[w + 1]) = (prompt[w + 1], prompt[w]);
                }
            }

            prompt.Add(random.Next(100000).ToString(System.Globalization.CultureInfo.InvariantCulture));
            result.Add(string.Join(' ', prompt));
        }

        return result;
    }

    [Fact]
    public void Search_GraphWalkOnPromptEmbeddings_RecallAt10AgainstExactIsAtLeast095()
    {
        // Defaults except ScanBelow = 0, so that the graph is walked at 8,000 prompts.
        var history = Prompts(8000, seed: 1);
        var embedder = HashedNgramEmbedder.Fit(history);
        float[] Embed(string text)
        {
            var v = new float[embedder.Dimensions];
            embedder.Embed(text, v);
            return v;
        }

        var recall = RecallAt10(
            new HnswIndex(embedder.Dimensions, new HnswOptions { ScanBelow = 0 }), history.ConvertAll(Embed), Prompts(300, seed: 2).ConvertAll(Embed));

        // 1.0 at the defaults; a graph of M = 4 searched with efSearch 10 gets 0.83.
        Assert.True(recall >= 0.95, $"recall@10 = {recall}");
    }

    [Fact]
    public void Search_GraphWalkOnClusteredVectors_RecallAt10AgainstExactIsAtLeast095AtEfSearch128()
    {
        // The hard case for any graph index: within each cluster the vectors are like random points in 64
        // dimensions, so a vector's 10 nearest are barely nearer than the rest of its cluster and a search must
        // look at most of the cluster, whatever the graph. Prompt embeddings are not like that (the test above);
        // here efSearch 128 is needed (0.94 at 64, 0.91 at the default 48, with M 16 or 24), and this checks that
        // the graph reaches 0.95 when the search is wide enough (0.98).
        var recall = RecallAt10(
            new HnswIndex(64, new HnswOptions { ScanBelow = 0, EfSearch = 128 }), Clustered(4000, 64, 40, seed: 1), Clustered(200, 64, 40, seed: 2));

        Assert.True(recall >= 0.95, $"recall@10 = {recall}");
    }

    [Fact]
    public void Search_BelowScanSize_FindsTheExactNeighbours()
    {
        var recall = RecallAt10(new HnswIndex(64), Clustered(4000, 64, 40, seed: 1), Clustered(200, 64, 40, seed: 2));

        Assert.Equal(1.0, recall);
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
        var a = new HnswIndex(32, new HnswOptions { Seed = 7, ScanBelow = 0 });
        var b = new HnswIndex(32, new HnswOptions { Seed = 7, ScanBelow = 0 });
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

    [Theory]
    [InlineData(0)] // the graph is walked
    [InlineData(100_000)] // every vector is scanned
    public async Task Search_DuringConcurrentInserts_ReturnsValidIdsAndFindsEarlierVectors(int scanBelow)
    {
        var vectors = Clustered(6000, 32, 30, seed: 9);
        var index = new HnswIndex(32, new HnswOptions { ScanBelow = scanBelow });
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
