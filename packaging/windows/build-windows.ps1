# Build the Windows installer: PyInstaller bundle, then Inno Setup. Run from a checkout in PowerShell with the
# project installed (pip install -e ".[packaging]") and Inno Setup 6 (ISCC.exe) on PATH or in its default folder.
$ErrorActionPreference = "Stop"
$Root = Resolve-Path "$PSScriptRoot\..\.."
$Out = Join-Path $Root "packaging\out"
$Version = python -c "from importlib.metadata import version; print(version('snowml-desktop'))"
if ($LASTEXITCODE -ne 0) { throw "snowml-desktop is not installed in this Python: pip install -e .[packaging]" }

python "$Root\packaging\make_icons.py" "$Out\icons"
pyinstaller --noconfirm --log-level WARN --distpath "$Out\dist" --workpath "$Out\build" "$Root\packaging\snowml.spec"
& "$Out\dist\snowml-desktop\snowml.exe" --version
if ($LASTEXITCODE -ne 0) { throw "the bundled snowml.exe does not start" }

$Iscc = (Get-Command ISCC.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" "$PSScriptRoot\snowml-desktop.iss"
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Write-Host "installer: $Out\snowml-desktop-$Version-setup.exe"
