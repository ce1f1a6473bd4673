namespace Flare.Routing.Estimation.Embeddings;

/// <summary>
/// Turns a prompt into a unit-length vector whose dot product with another is their cosine similarity. The
/// variation point of estimation: <see cref="HashedNgramEmbedder"/> (built in, no model file) or
/// <see cref="OnnxEmbedder"/> (a sentence-embedding model the operator provides). Implementations are thread-safe.
/// </summary>
public interface IPromptEmbedder
{
    /// <summary>The embedder's name, as configuration refers to it.</summary>
    string Name { get; }

    /// <summary>Length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>Writes the L2-normalised embedding of <paramref name="text"/> into <paramref name="destination"/>
    /// (length <see cref="Dimensions"/>). An empty text gives the zero vector.</summary>
    void Embed(string text, Span<float> destination);

    /// <summary>Embeds many texts; implementations that gain from batches (a neural model) override this.</summary>
    float[][] EmbedBatch(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            result[i] = new float[Dimensions];
            Embed(texts[i], result[i]);
        }

        return result;
    }
}

/// <summary>Names of the embedders, as configuration refers to them.</summary>
public static class EmbedderNames
{
    /// <summary><see cref="HashedNgramEmbedder"/>.</summary>
    public const string HashedNgram = "hashed-ngram";

    /// <summary><see cref="OnnxEmbedder"/>.</summary>
    public const string Onnx = "onnx";
}
