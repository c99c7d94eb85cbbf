from django import forms

ERR_NO_FILE = "请选择要导入的文件。"


class TaxImportUploadForm(forms.Form):
    file = forms.FileField(
        label="缴费/入库明细文件",
        help_text="税务系统导出的 .xlsx 或 .csv；标题行、合并单元格、合计行都可以保留。",
        error_messages={"required": ERR_NO_FILE},
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    year = forms.IntegerField(
        label="待遇年度", required=False, min_value=2000, max_value=2100,
        help_text="文件中没有“待遇年度/费款所属期”列时使用；不填则取本县最新的征缴年度。",
    )
