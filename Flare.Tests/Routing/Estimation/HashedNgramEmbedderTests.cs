using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Embeddings;

namespace Flare.Tests.Routing.Estimation;

public sealed class HashedNgramEmbedderTests
{
    private static float[] Embed(IPromptEmbedder e, string text)
    {
        var v = new float[e.Dimensions];
        e.Embed(text, v);
        return v;
    }

    private static float Cos(float[] a, float[] b) => a.Zip(b).Sum(p => p.First * p.Second);

    [Fact]
    public void Embed_IsUnitLengthAndDeterministicAcrossInstances()
    {
        var a = Embed(new HashedNgramEmbedder(), "Write a Python function that reverses a list.");
        var b = Embed(new HashedNgramEmbedder(), "Write a Python function that reverses a list.");

        Assert.Equal(a, b);
        Assert.Equal(1f, a.Sum(x => x * x), 4);
        Assert.Equal(256, a.Length);
    }

    [Fact]
    public void Embed_SimilarPromptsAreCloserThanUnrelatedOnes()
    {
        var e = HashedNgramEmbedder.Fit(["Write a Python function that reverses a list.", "Who wrote War and Peace?", "What is the capital of France?"]);

        var code = Embed(e, "Write a Python function that sorts a list.");
        var sameTask = Embed(e, "Write a Python function that reverses a list.");
        var trivia = Embed(e, "Who wrote Anna Karenina?");

        Assert.True(Cos(code, sameTask) > Cos(code, trivia) + 0.3, $"{Cos(code, sameTask)} vs {Cos(code, trivia)}");
    }

    [Fact]
    public void Fit_RareWordsWeighMoreThanCommonOnes()
    {
        var corpus = Enumerable.Range(0, 50).Select(i => $"please answer the question {i}").Append("zanzibar").ToList();
        var fitted = HashedNgramEmbedder.Fit(corpus, new HashedNgramEmbedderOptions { CharNgramWeight = 0 });
        var plain = new HashedNgramEmbedder(new HashedNgramEmbedderOptions { CharNgramWeight = 0 });
        var query = "please zanzibar";

        // With idf the query leans toward the rare word.
        // Without idf: 1/√3 ≈ 0.58 (three equal features); with it ≈ 0.64.
        Assert.True(Cos(Embed(fitted, query), Embed(fitted, "zanzibar")) > Cos(Embed(plain, query), Embed(plain, "zanzibar")) + 0.05);
        Assert.Equal(51, fitted.FittedDocuments);
    }

    [Fact]
    public void Embed_EmptyText_IsZeroVector()
    {
        Assert.All(Embed(new HashedNgramEmbedder(), ""), x => Assert.Equal(0f, x));
    }
}
