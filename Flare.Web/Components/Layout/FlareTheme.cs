using MudBlazor;

namespace Flare.Web.Components.Layout;

/// <summary>Flare's look. Fonts are the system's own: nothing is fetched from a font CDN.</summary>
public static class FlareTheme
{
    private static readonly string[] FontStack = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"];

    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#d9480f",
            Secondary = "#1864ab",
            AppbarBackground = "#212529",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = FontStack },
        },
    };
}
