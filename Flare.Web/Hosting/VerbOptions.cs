namespace Flare.Web.Hosting;

/// <summary>The options every verb takes: <c>--name value</c> or <c>--name=value</c>, each from a known set.</summary>
internal static class VerbOptions
{
    public static bool TryParse(string[] args, IReadOnlySet<string> known, out Dictionary<string, string> options, out string error)
    {
        options = new Dictionary<string, string>(StringComparer.Ordinal);
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                error = $"unexpected argument '{arg}'.";
                return false;
            }

            var name = arg[2..];
            string value;
            var equals = name.IndexOf('=');
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }
            else
            {
                error = $"--{name} needs a value.";
                return false;
            }

            if (!known.Contains(name))
            {
                error = $"unknown option --{name}.";
                return false;
            }

            options[name] = value;
        }

        return true;
    }
}
