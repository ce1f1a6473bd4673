using System.Text.Json;
using Flare.Routing.Optimization.Evaluation;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>
/// A per-model price table in LLMRouter's <c>default_llm.json</c> layout:
/// <c>{"model": {"input_price": 0.2, "output_price": 0.2, ...}, ...}</c>, USD per million tokens; other members
/// (<c>size</c>, <c>feature</c>) are ignored. An import uses it to cost rows whose file gives no cost.
/// </summary>
public static class PriceTable
{
    /// <summary>Reads a price table; false with the reason when it is not one.</summary>
    public static bool TryParse(string json, out IReadOnlyDictionary<string, ModelPrice> prices, out string? error)
    {
        ArgumentNullException.ThrowIfNull(json);
        var table = new Dictionary<string, ModelPrice>(StringComparer.Ordinal);
        prices = table;
        error = null;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                error = "The price table must be a JSON object {\"model\": {\"input_price\": USD per 1M tokens, \"output_price\": USD per 1M tokens}}.";
                return false;
            }

            foreach (var model in document.RootElement.EnumerateObject())
            {
                if (model.Value.ValueKind != JsonValueKind.Object
                    || !model.Value.TryGetProperty("input_price", out var input) || input.ValueKind != JsonValueKind.Number
                    || !model.Value.TryGetProperty("output_price", out var output) || output.ValueKind != JsonValueKind.Number)
                {
                    error = $"The price of '{model.Name}' needs numeric \"input_price\" and \"output_price\" (USD per million tokens).";
                    return false;
                }

                var (inPrice, outPrice) = (input.GetDouble(), output.GetDouble());
                if (!(inPrice >= 0 && outPrice >= 0 && double.IsFinite(inPrice) && double.IsFinite(outPrice)))
                {
                    error = $"The prices of '{model.Name}' must be finite and ≥ 0.";
                    return false;
                }

                table[model.Name] = new ModelPrice(inPrice, outPrice);
            }
        }
        catch (JsonException e)
        {
            error = $"The price table is not JSON: {e.Message}";
            return false;
        }

        if (table.Count == 0)
        {
            error = "The price table names no model.";
            return false;
        }

        return true;
    }

    /// <summary>The price of <paramref name="model"/>: the same name, else the same name ignoring case.</summary>
    public static ModelPrice? Find(IReadOnlyDictionary<string, ModelPrice> prices, string model)
    {
        ArgumentNullException.ThrowIfNull(prices);
        if (prices.TryGetValue(model, out var exact))
        {
            return exact;
        }

        foreach (var (name, price) in prices)
        {
            if (string.Equals(name, model, StringComparison.OrdinalIgnoreCase))
            {
                return price;
            }
        }

        return null;
    }

    /// <summary>USD of one request: <c>(in·input_price + out·output_price) / 10⁶</c>.</summary>
    public static double Cost(ModelPrice price, int inputTokens, int outputTokens)
    {
        ArgumentNullException.ThrowIfNull(price);
        return ((inputTokens * price.InputPerMTokUsd) + (outputTokens * price.OutputPerMTokUsd)) / 1_000_000;
    }
}
