<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ClassifyTab</name>
    <message>
        <source>Open image…</source>
        <translation>打开图像…</translation>
    </message>
    <message>
        <source>Classify a PNG, JPEG, BMP, GIF, WebP or TIFF file. You can also drop an image here or paste one (Ctrl+V).</source>
        <translation>对 PNG、JPEG、BMP、GIF、WebP 或 TIFF 文件进行分类。也可以把图像拖放到这里，或粘贴一张（Ctrl+V）。</translation>
    </message>
    <message>
        <source>Paste</source>
        <translation>粘贴</translation>
    </message>
    <message>
        <source>Classify the image on the clipboard (Ctrl+V)</source>
        <translation>对剪贴板中的图像进行分类（Ctrl+V）</translation>
    </message>
    <message>
        <source>Pen:</source>
        <translation>笔：</translation>
    </message>
    <message>
        <source>Pen width</source>
        <translation>笔画粗细</translation>
    </message>
    <message>
        <source>White ink on black</source>
        <translation>黑底白字</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Remove the last stroke (Ctrl+Z)</source>
        <translation>撤销最后一笔（Ctrl+Z）</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Start again (Esc or Delete)</source>
        <translation>重新开始（Esc 或 Delete 键）</translation>
    </message>
    <message>
        <source>What the model sees (28 × 28)</source>
        <translation>模型看到的输入（28 × 28）</translation>
    </message>
    <message>
        <source>Samples:</source>
        <translation>示例：</translation>
    </message>
    <message>
        <source>The percentages read this image and its mirror image together (the mean of their logits): the model was trained to take a garment mirrored for the same garment.</source>
        <translation>这些百分比同时读取这张图像及其镜像（取两者 logits 的平均）：模型在训练中学会了把镜像后的服饰当作同一件服饰。</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>请选择一个模型</translation>
    </message>
    <message>
        <source>This does not look like a garment</source>
        <translation>这看起来不像衣物</translation>
    </message>
    <message>
        <source>This does not look like a digit</source>
        <translation>这看起来不像数字</translation>
    </message>
    <message>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
    <message>
        <source>The image is blank: nothing to classify</source>
        <translation>图像是空白的：没有可分类的内容</translation>
    </message>
    <message>
        <source>Draw something, or drop a photo…</source>
        <translation>画点什么，或拖入一张照片…</translation>
    </message>
    <message>
        <source>Draw something…</source>
        <translation>画点什么…</translation>
    </message>
    <message>
        <source>Your input: %1</source>
        <translation>你的输入：%1</translation>
    </message>
    <message>
        <source>Your input</source>
        <translation>你的输入</translation>
    </message>
    <message>
        <source>&amp;Open image…</source>
        <translation>打开图像(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Paste image</source>
        <translation>粘贴图像(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Undo stroke</source>
        <translation>撤销笔画(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Clear drawing</source>
        <translation>清除手写(&amp;C)</translation>
    </message>
    <message>
        <source>What the model sees, 28 × 28 pixels</source>
        <translation>模型看到的输入，28 × 28 像素</translation>
    </message>
    <message>
        <source>Unlike the images this model was trained on: its nearest class, %1 (%2), means little.</source>
        <translation>与该模型训练时见过的图像不同：最接近的类别 %1（%2）参考意义不大。</translation>
    </message>
    <message>
        <source>drawing</source>
        <translation>手绘</translation>
    </message>
    <message>
        <source>&amp;Bring back the drawing</source>
        <translation>恢复手绘(&amp;B)</translation>
    </message>
    <message>
        <source>Bring back the drawing that this input replaced (Ctrl+Z)</source>
        <translation>恢复被此输入替换的手绘（Ctrl+Z）</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>%1 cannot be shown (%2).</source>
        <translation>无法显示 %1（%2）。</translation>
    </message>
    <message>
        <source>pasted image</source>
        <translation>粘贴的图像</translation>
    </message>
    <message>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <source>The image from the other application is empty or unreadable.</source>
        <translation>来自其他应用程序的图像为空或无法读取。</translation>
    </message>
    <message>
        <source>Open image</source>
        <translation>打开图像</translation>
    </message>
    <message>
        <source>Images (%1);;All files (*)</source>
        <translation>图像 (%1);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Only files on this computer can be classified; save the image first, or drag the picture itself.</source>
        <translation>只能对本机上的文件进行分类；请先保存图像，或直接拖入图片本身。</translation>
    </message>
    <message>
        <source>There is no image to classify here: use an image, or an image file.</source>
        <translation>这里没有可分类的图像：请使用图像或图像文件。</translation>
    </message>
    <message>
        <source>dropped image</source>
        <translation>拖入的图像</translation>
    </message>
</context>
<context>
    <name>CompareDialog</name>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Data set</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>轮数</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批量大小</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <source>Momentum</source>
        <translation>动量</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>学习率调度</translation>
    </message>
    <message>
        <source>Label smoothing</source>
        <translation>标签平滑</translation>
    </message>
    <message>
        <source>Random shift</source>
        <translation>随机平移</translation>
    </message>
    <message>
        <source>Random flip</source>
        <translation>随机翻转</translation>
    </message>
    <message>
        <source>Activation</source>
        <translation>激活函数</translation>
    </message>
    <message>
        <source>Pooling</source>
        <translation>池化</translation>
    </message>
    <message>
        <source>Batch norm</source>
        <translation>批量规范化</translation>
    </message>
    <message>
        <source>Dropout</source>
        <translation>暂退法（dropout）</translation>
    </message>
    <message>
        <source>Normalised input</source>
        <translation>标准化输入</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Threads</source>
        <translation>线程数</translation>
    </message>
    <message>
        <source>Test batch size</source>
        <translation>测试批量大小</translation>
    </message>
    <message>
        <source>Epochs done</source>
        <translation>已完成轮数</translation>
    </message>
    <message>
        <source>Final loss</source>
        <translation>最终损失</translation>
    </message>
    <message>
        <source>Final train acc</source>
        <translation>最终训练准确率</translation>
    </message>
    <message>
        <source>Final test acc</source>
        <translation>最终测试准确率</translation>
    </message>
    <message>
        <source>Time (s)</source>
        <translation>时间（秒）</translation>
    </message>
    <message>
        <source>Compare runs</source>
        <translation>比较运行</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message numerus="yes">
        <source>%n setting(s) differ between these runs: %1; the others are the same. Click a column&apos;s title to sort by it.</source>
        <translation>
            <numerusform>这些运行有 %n 项设置不同：%1；其余相同。点击列标题可按该列排序。</numerusform>
        </translation>
    </message>
    <message>
        <source>These runs have the same settings. Click a column&apos;s title to sort by it.</source>
        <translation>这些运行的设置完全相同。点击列标题可按该列排序。</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>&amp;Export CSV…</source>
        <translation>导出 CSV(&amp;E)…</translation>
    </message>
    <message>
        <source>Export comparison</source>
        <translation>导出比较结果</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
</context>
<context>
    <name>ConfusionTable</name>
    <message>
        <source>acc.</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>predicted: %1</source>
        <translation>预测：%1</translation>
    </message>
    <message>
        <source>accuracy on the test images of each class</source>
        <translation>每个类别测试图像上的准确率</translation>
    </message>
    <message>
        <source>%1 test images of “%2” classified as “%3”. Click to list them.</source>
        <translation>%1 张“%2”测试图像被分类为“%3”。点击列出这些图像。</translation>
    </message>
</context>
<context>
    <name>DatasetDialog</name>
    <message>
        <source>The %1 test set is not in %2. Choose a folder that holds it, or download it (about %3 MB).</source>
        <translation>%2 中没有 %1 测试集。请选择一个包含它的文件夹，或下载它（约 %3 MB）。</translation>
    </message>
    <message>
        <source>Choose folder or download %1…</source>
        <translation>选择文件夹或下载 %1…</translation>
    </message>
    <message>
        <source>%1 is missing</source>
        <translation>缺少 %1</translation>
    </message>
    <message>
        <source>&lt;p&gt;The &lt;b&gt;%1&lt;/b&gt; test set was not found. LeNet Studio looked in:&lt;/p&gt;&lt;ul&gt;%2&lt;/ul&gt;&lt;p&gt;Download its test images (about %3 MB) into &lt;b&gt;%4&lt;/b&gt;, or choose a folder that already holds them.&lt;/p&gt;</source>
        <translation>&lt;p&gt;未找到 &lt;b&gt;%1&lt;/b&gt; 测试集。LeNet Studio 查找过：&lt;/p&gt;&lt;ul&gt;%2&lt;/ul&gt;&lt;p&gt;可以把它的测试图像下载（约 %3 MB）到 &lt;b&gt;%4&lt;/b&gt;，或选择一个已包含它们的文件夹。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;The &lt;b&gt;%1&lt;/b&gt; data set was not found. LeNet Studio looked in:&lt;/p&gt;&lt;ul&gt;%2&lt;/ul&gt;&lt;p&gt;Download it (about %3 MB) into &lt;b&gt;%4&lt;/b&gt;, or choose a folder that already holds it.&lt;/p&gt;</source>
        <translation>&lt;p&gt;未找到 &lt;b&gt;%1&lt;/b&gt; 数据集。LeNet Studio 查找过：&lt;/p&gt;&lt;ul&gt;%2&lt;/ul&gt;&lt;p&gt;可以把它下载（约 %3 MB）到 &lt;b&gt;%4&lt;/b&gt;，或选择一个已包含它的文件夹。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Try &amp;again</source>
        <translation>重试(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation>下载(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Choose folder…</source>
        <translation>选择文件夹(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;Details</source>
        <translation>详细信息(&amp;D)</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>%1: %2 of %3 KB</source>
        <translation>%1：%2 / %3 KB</translation>
    </message>
    <message>
        <source>%1: %2 KB</source>
        <translation>%1：%2 KB</translation>
    </message>
    <message>
        <source>The download ended but the files are not there.</source>
        <translation>下载已结束，但文件不在那里。</translation>
    </message>
    <message>
        <source>The download could not be saved in %1: choose a folder that holds the data set, or start LeNet Studio with --data-root set to a folder you can write to.</source>
        <translation>下载的文件无法保存到 %1：请选择一个包含该数据集的文件夹，或用 --data-root 指定一个可写的文件夹来启动 LeNet Studio。</translation>
    </message>
    <message>
        <source>The download failed because the data set&apos;s servers could not be reached: check the internet connection and try again, or choose a folder that holds the data set.</source>
        <translation>下载失败，因为无法连接数据集的服务器：请检查网络连接后重试，或选择一个包含该数据集的文件夹。</translation>
    </message>
    <message>
        <source>The download failed: try again, or choose a folder that holds the data set.</source>
        <translation>下载失败：请重试，或选择一个包含该数据集的文件夹。</translation>
    </message>
    <message>
        <source>Folder that holds %1</source>
        <translation>包含 %1 的文件夹</translation>
    </message>
    <message>
        <source>%1 does not hold the %2 test set. Choose the folder that contains %3/raw/ (or the raw folder itself) with its two IDX files: %4 (plain or .gz).</source>
        <translation>%1 中没有 %2 测试集。请选择包含 %3/raw/ 的文件夹（或 raw 文件夹本身），其中应有它的两个 IDX 文件：%4（未压缩或 .gz）。</translation>
    </message>
    <message>
        <source>%1 does not hold the %2 data set. Choose the folder that contains %3/raw/ (or the raw folder itself) with the four IDX files: %4 (plain or .gz).</source>
        <translation>%1 中没有 %2 数据集。请选择包含 %3/raw/ 的文件夹（或 raw 文件夹本身），其中应有四个 IDX 文件：%4（未压缩或 .gz）。</translation>
    </message>
</context>
<context>
    <name>DatasetInput</name>
    <message>
        <source>test image #%1 (true: %2)</source>
        <translation>测试图像 #%1（真实：%2）</translation>
    </message>
</context>
<context>
    <name>DiagnosticsView</name>
    <message>
        <source>output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>gradient norm</source>
        <translation>梯度范数</translation>
    </message>
    <message>
        <source>weight norm</source>
        <translation>权重范数</translation>
    </message>
    <message>
        <source>update / weight per step</source>
        <translation>每步更新量 / 权重</translation>
    </message>
    <message>
        <source>dead (ReLU)</source>
        <translation>死亡单元（ReLU）</translation>
    </message>
    <message>
        <source>saturated (σ′ &lt; %1)</source>
        <translation>饱和单元（σ′ &lt; %1）</translation>
    </message>
    <message>
        <source>pre-activations, epoch %1</source>
        <translation>激活前的值，第 %1 轮</translation>
    </message>
    <message>
        <source>pre-activations</source>
        <translation>激活前的值</translation>
    </message>
    <message>
        <source>log₁₀ |gradient|, epoch %1</source>
        <translation>log₁₀ |梯度|，第 %1 轮</translation>
    </message>
    <message>
        <source>log₁₀ |gradient|</source>
        <translation>log₁₀ |梯度|</translation>
    </message>
    <message>
        <source>Training diagnostics</source>
        <translation>训练诊断</translation>
    </message>
    <message>
        <source>How to read it: one colour per layer, from conv1 (the first) to the output. In a classic (sigmoid) run conv1&apos;s gradient starts hundreds of times smaller than the output layer&apos;s and stays far below it through the first epoch: its early layers barely learn. A modern run (ReLU, batch norm) keeps them close from the start. Saturated: σ′ = σ(1 − σ) below %1 (shaded in the pre-activations); dead: a ReLU unit that outputs 0 for a whole batch.</source>
        <translation>怎么看：每种颜色是一层，从 conv1（第一层）到输出层。经典（sigmoid）运行中，conv1 的梯度起初比输出层的小几百倍，并在整个第一轮里都远小于它：前面几层几乎学不到东西。现代运行（ReLU、批量规范化）从一开始就让各层的梯度相近。饱和：σ′ = σ(1 − σ) 小于 %1（激活前的值的直方图中以阴影标出）；死亡：在整个批次上都输出 0 的 ReLU 单元。</translation>
    </message>
    <message>
        <source>Select a run to see its layers&apos; diagnostics.</source>
        <translation>选择一次运行，查看其各层的诊断。</translation>
    </message>
    <message>
        <source>%1: no diagnostics yet (they come every few steps of training).</source>
        <translation>%1：还没有诊断数据（训练时每隔几步记录一次）。</translation>
    </message>
    <message>
        <source>%1 · per layer, every few steps, against the epoch</source>
        <translation>%1 · 按层，每隔几步，横轴为轮次</translation>
    </message>
    <message>
        <source>This run: conv1&apos;s gradient norm is %1 × the output layer&apos;s (median over epoch 1).</source>
        <translation>本次运行：conv1 的梯度范数是输出层的 %1 倍（第 1 轮的中位数）。</translation>
    </message>
    <message>
        <source>This run: conv1&apos;s gradient norm is %1 × the output layer&apos;s in epoch 1 and %2 × in epoch %3 (medians).</source>
        <translation>本次运行：conv1 的梯度范数在第 1 轮是输出层的 %1 倍，在第 %3 轮是 %2 倍（中位数）。</translation>
    </message>
</context>
<context>
    <name>DrawingCanvas</name>
    <message>
        <source>Draw here, or drop an image</source>
        <translation>在这里书写，或拖入一张图像</translation>
    </message>
    <message>
        <source>Drawing canvas</source>
        <translation>手写画布</translation>
    </message>
    <message>
        <source>Draw a digit or a garment with the mouse or a pen; the model classifies the drawing as you draw. Ctrl+Z undoes a stroke, Escape clears.</source>
        <translation>用鼠标或手写笔画一个数字或一件服饰；模型会边画边分类。Ctrl+Z 撤销一笔，Esc 清除。</translation>
    </message>
</context>
<context>
    <name>ErrorBanner</name>
    <message>
        <source>Hide this message</source>
        <translation>隐藏此消息</translation>
    </message>
</context>
<context>
    <name>ExplanationView</name>
    <message>
        <source>How the value is computed</source>
        <translation>这个值是怎样算出来的</translation>
    </message>
    <message>
        <source>%1(%2) = %3</source>
        <translation>%1(%2) = %3</translation>
    </message>
    <message>
        <source>batch norm: (%1 − mean %2) / √(var %3 + %4) × γ %5 + β %6 = %7</source>
        <translation>批量归一化：(%1 − 均值 %2) / √(方差 %3 + %4) × γ %5 + β %6 = %7</translation>
    </message>
    <message>
        <source>sum of products %1 + bias %2 = %3</source>
        <translation>乘积之和 %1 + 偏置 %2 = %3</translation>
    </message>
    <message>
        <source>sum of products = %1 (no bias: batch norm follows)</source>
        <translation>乘积之和 = %1（没有偏置：后面是批量归一化）</translation>
    </message>
    <message>
        <source>max(%1) = %2</source>
        <translation>max(%1) = %2</translation>
    </message>
    <message>
        <source>mean(%1) = %2</source>
        <translation>mean(%1) = %2</translation>
    </message>
    <message>
        <source>%1 = %2 (the forward pass)</source>
        <translation>%1 = %2（前向传播的结果）</translation>
    </message>
    <message>
        <source>input (as the model sees it)</source>
        <translation>输入（模型看到的样子）</translation>
    </message>
    <message>
        <source>%1, channel %2</source>
        <translation>%1，通道 %2</translation>
    </message>
    <message>
        <source>its reach on the 28 × 28 image</source>
        <translation>它在 28 × 28 图像上的感受野</translation>
    </message>
    <message>
        <source>window (maximum marked)</source>
        <translation>窗口（已标出最大值）</translation>
    </message>
    <message>
        <source>window (averaged)</source>
        <translation>窗口（取平均）</translation>
    </message>
    <message>
        <source>window</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>× kernel weights</source>
        <translation>× 卷积核权重</translation>
    </message>
    <message>
        <source>= products</source>
        <translation>= 逐元素乘积</translation>
    </message>
    <message>
        <source>sum of products per input channel (click one to show its grids):</source>
        <translation>每个输入通道的乘积之和（点击一个查看它的网格）：</translation>
    </message>
    <message>
        <source>ch %1: %2</source>
        <translation>通道 %1：%2</translation>
    </message>
    <message>
        <source>largest contributions of %1 inputs (input × weight)</source>
        <translation>%1 个输入中贡献最大的几项（输入 × 权重）</translation>
    </message>
    <message>
        <source>the other %1: %2</source>
        <translation>其余 %1 项：%2</translation>
    </message>
</context>
<context>
    <name>FeatureMapView</name>
    <message>
        <source>No input yet: draw a digit or drop an image in the Classify tab, or pick a test image below.</source>
        <translation>还没有输入：请在“分类”页手写一个数字或拖入一张图像，或在下方选一张测试图像。</translation>
    </message>
    <message>
        <source>input</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>Feature maps</source>
        <translation>特征图</translation>
    </message>
    <message>
        <source>The output of every layer of LeNet for the current input, from the 28 × 28 input to the 10 class scores.</source>
        <translation>LeNet 每一层对当前输入的输出，从 28 × 28 的输入到 10 个类别的得分。</translation>
    </message>
    <message>
        <source>input · pixel (row %1, column %2) = %3</source>
        <translation>输入 · 像素（第 %1 行，第 %2 列）= %3</translation>
    </message>
    <message>
        <source>output · class %1 “%2”: logit %3, mean with the mirror image’s %4, probability %5</source>
        <translation>输出 · 类别 %1“%2”：logit %3，与镜像图像的平均 %4，概率 %5</translation>
    </message>
    <message>
        <source>output · class %1 “%2”: logit %3, probability %4</source>
        <translation>输出 · 类别 %1“%2”：logit %3，概率 %4</translation>
    </message>
    <message>
        <source>%1 · unit %2 = %3</source>
        <translation>%1 · 单元 %2 = %3</translation>
    </message>
    <message>
        <source>%1 · channel %2 · (row %3, column %4) = %5</source>
        <translation>%1 · 通道 %2 ·（第 %3 行，第 %4 列）= %5</translation>
    </message>
</context>
<context>
    <name>FilterView</name>
    <message>
        <source>No model loaded.</source>
        <translation>未加载模型。</translation>
    </message>
    <message>
        <source>Learned filters</source>
        <translation>学到的卷积核</translation>
    </message>
    <message>
        <source>The 5 × 5 kernels of conv1 and conv2: blue negative, white zero, red positive.</source>
        <translation>conv1 和 conv2 的 5 × 5 卷积核：蓝色为负，白色为零，红色为正。</translation>
    </message>
    <message>
        <source>conv1 · 6 kernels, 1×5×5</source>
        <translation>conv1 · 6 个卷积核，1×5×5</translation>
    </message>
    <message>
        <source>conv2 · 16 filters (columns) × 6 input channels (rows), 5×5</source>
        <translation>conv2 · 16 个卷积核（列）× 6 个输入通道（行），5×5</translation>
    </message>
    <message>
        <source>in %1</source>
        <translation>输入 %1</translation>
    </message>
    <message>
        <source>conv1 · kernel %1 · (row %2, column %3) = %4</source>
        <translation>conv1 · 卷积核 %1 ·（第 %2 行，第 %3 列）= %4</translation>
    </message>
    <message>
        <source>conv2 · filter %1, input channel %2 · (row %3, column %4) = %5</source>
        <translation>conv2 · 卷积核 %1，输入通道 %2 ·（第 %3 行，第 %4 列）= %5</translation>
    </message>
</context>
<context>
    <name>GalleryModel</name>
    <message>
        <source>%1 (%2)
true: %3</source>
        <translation>%1（%2）
真实：%3</translation>
    </message>
    <message>
        <source>Test image #%1
true class: %2
predicted: %3 (%4)
Click to make it the current input.</source>
        <translation>测试图像 #%1
真实类别：%2
预测：%3（%4）
点击将其设为当前输入。</translation>
    </message>
</context>
<context>
    <name>InspectTab</name>
    <message>
        <source>Export feature maps as PNG…</source>
        <translation>将特征图导出为 PNG…</translation>
    </message>
    <message>
        <source>Export &amp;feature maps (PNG)…</source>
        <translation>导出特征图 (PNG)(&amp;F)…</translation>
    </message>
    <message>
        <source>Test set</source>
        <translation>测试集</translation>
    </message>
    <message>
        <source>Filters</source>
        <translation>卷积核</translation>
    </message>
    <message>
        <source>Each layer has one colour scale (its range is under it). Hover over a map to read a value; click a map to enlarge it.</source>
        <translation>每一层共用一个色标（其范围标在下方）。将指针悬停在特征图上可读取数值；点击特征图可将其放大。</translation>
    </message>
    <message>
        <source>No model loaded: choose one in the Classify tab, open a checkpoint (File ▸ Open), or train one in the Train tab.</source>
        <translation>未加载模型：请在“分类”页选择一个，打开一个检查点（文件 ▸ 打开），或在“训练”页训练一个。</translation>
    </message>
    <message>
        <source>No input yet: draw a digit or drop an image in the Classify tab, or click a test image below.</source>
        <translation>还没有输入：请在“分类”页手写一个数字或拖入一张图像，或点击下方的一张测试图像。</translation>
    </message>
    <message>
        <source>The input is blank: there is nothing to classify.</source>
        <translation>输入是空白的：没有可分类的内容。</translation>
    </message>
    <message>
        <source>This input cannot be shown: %1</source>
        <translation>无法显示此输入：%1</translation>
    </message>
    <message>
        <source>Input: %1 · model: %2 · unlike its training images (nearest class: %3, %4)</source>
        <translation>输入：%1 · 模型：%2 · 与其训练图像不同（最接近的类别：%3，%4）</translation>
    </message>
    <message>
        <source>Input: %1 · model: %2 · prediction: %3 (%4)</source>
        <translation>输入：%1 · 模型：%2 · 预测：%3（%4）</translation>
    </message>
    <message>
        <source>&lt;b style=&apos;color:#c05000&apos;&gt;Weights of the model being trained&lt;/b&gt; — live, refreshed as training changes them (last update %1).</source>
        <translation>&lt;b style=&apos;color:#c05000&apos;&gt;正在训练的模型的权重&lt;/b&gt; — 实时显示，随训练更新（最近更新 %1）。</translation>
    </message>
    <message>
        <source>No model loaded.</source>
        <translation>未加载模型。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Weights of the current model&lt;/b&gt;: %1</source>
        <translation>&lt;b&gt;当前模型的权重&lt;/b&gt;：%1</translation>
    </message>
    <message>
        <source>LeNet Studio · %1 · model: %2 · prediction: %3 (%4)</source>
        <translation>LeNet Studio · %1 · 模型：%2 · 预测：%3（%4）</translation>
    </message>
    <message>
        <source>Nothing to export</source>
        <translation>没有可导出的内容</translation>
    </message>
    <message>
        <source>There are no feature maps to export: choose an input first.</source>
        <translation>没有可导出的特征图：请先选择一个输入。</translation>
    </message>
    <message>
        <source>Cannot export</source>
        <translation>无法导出</translation>
    </message>
    <message>
        <source>Cannot write %1: check that the folder exists and is writable.</source>
        <translation>无法写入 %1：请检查文件夹是否存在且可写。</translation>
    </message>
    <message>
        <source>Export feature maps</source>
        <translation>导出特征图</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>Feature maps saved to %1</source>
        <translation>特征图已保存到 %1</translation>
    </message>
</context>
<context>
    <name>LayerGrid</name>
    <message>
        <source>Layer values</source>
        <translation>该层的值</translation>
    </message>
    <message>
        <source>Click a value to see how it is computed; the arrow keys move to its neighbours.</source>
        <translation>点击一个值，查看它是怎样算出来的；方向键移到相邻的值。</translation>
    </message>
</context>
<context>
    <name>Legend</name>
    <message>
        <source>misclassified (colour: true class)</source>
        <translation>分错的（颜色：真实类别）</translation>
    </message>
    <message>
        <source>the current input</source>
        <translation>当前输入</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>LeNet Studio</source>
        <translation>LeNet Studio</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open checkpoint…</source>
        <translation>打开检查点(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Export model…</source>
        <translation>导出模型(&amp;E)…</translation>
    </message>
    <message>
        <source>Save the current model for other tools: ONNX, a PyTorch program, or its metrics</source>
        <translation>将当前模型保存给其他工具使用：ONNX、PyTorch 程序或其指标</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Train</source>
        <translation>训练(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Classify</source>
        <translation>分类(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Inspect</source>
        <translation>探查(&amp;I)</translation>
    </message>
    <message>
        <source>Networ&amp;k</source>
        <translation>网络(&amp;K)</translation>
    </message>
    <message>
        <source>Pro&amp;jector</source>
        <translation>投影(&amp;J)</translation>
    </message>
    <message>
        <source>%1 tab</source>
        <translation>“%1”页</translation>
    </message>
    <message>
        <source>Trai&amp;ning</source>
        <translation>训练(&amp;N)</translation>
    </message>
    <message>
        <source>I&amp;mage</source>
        <translation>图像(&amp;M)</translation>
    </message>
    <message>
        <source>Vie&amp;w</source>
        <translation>视图(&amp;W)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>Colours of the &amp;system</source>
        <translation>跟随系统颜色(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation>浅色(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>深色(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About LeNet Studio</source>
        <translation>关于 LeNet Studio(&amp;A)</translation>
    </message>
    <message>
        <source>Open checkpoint</source>
        <translation>打开检查点</translation>
    </message>
    <message>
        <source>LeNet Studio checkpoints (*.pt *.pth);;All files (*)</source>
        <translation>LeNet Studio 检查点 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Cannot open checkpoint</source>
        <translation>无法打开检查点</translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation>已打开 %1</translation>
    </message>
    <message>
        <source>ONNX model</source>
        <translation>ONNX 模型</translation>
    </message>
    <message>
        <source>PyTorch exported program</source>
        <translation>PyTorch 导出程序</translation>
    </message>
    <message>
        <source>Per-epoch metrics (CSV)</source>
        <translation>每轮指标（CSV）</translation>
    </message>
    <message>
        <source>Export model</source>
        <translation>导出模型</translation>
    </message>
    <message>
        <source>Exporting %1…</source>
        <translation>正在导出 %1…</translation>
    </message>
    <message>
        <source>Cannot export %1</source>
        <translation>无法导出 %1</translation>
    </message>
    <message>
        <source>Cannot export the model</source>
        <translation>无法导出模型</translation>
    </message>
    <message>
        <source>Cannot export to %1: %2</source>
        <translation>无法导出到 %1：%2</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>已导出 %1</translation>
    </message>
    <message>
        <source>About LeNet Studio</source>
        <translation>关于 LeNet Studio</translation>
    </message>
    <message>
        <source>&lt;h3&gt;LeNet Studio %1&lt;/h3&gt;&lt;p&gt;Train LeNet on MNIST and Fashion-MNIST, watch it learn, classify your own drawings and photos, and look inside the network layer by layer.&lt;/p&gt;&lt;p&gt;Data sets: MNIST (Y. LeCun, C. Cortes, C. Burges); Fashion-MNIST (Zalando Research, MIT).&lt;/p&gt;</source>
        <translation>&lt;h3&gt;LeNet Studio %1&lt;/h3&gt;&lt;p&gt;在 MNIST 和 Fashion-MNIST 上训练 LeNet，观察它如何学习，用它对你自己的手写和照片进行分类，并逐层查看网络内部。&lt;/p&gt;&lt;p&gt;数据集：MNIST（Y. LeCun、C. Cortes、C. Burges）；Fashion-MNIST（Zalando Research，MIT 许可）。&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>MapZoomDialog</name>
    <message>
        <source>Feature map</source>
        <translation>特征图</translation>
    </message>
    <message>
        <source>Layer:</source>
        <translation>层：</translation>
    </message>
    <message>
        <source>Channel:</source>
        <translation>通道：</translation>
    </message>
    <message>
        <source>%1 · channel %2</source>
        <translation>%1 · 通道 %2</translation>
    </message>
    <message>
        <source>%1 · layer shape %2 · colour scale shared by the layer: %3 to %4</source>
        <translation>%1 · 层的形状 %2 · 全层共用的色标：%3 到 %4</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Cannot load “%1”: %2</source>
        <translation>无法加载“%1”：%2</translation>
    </message>
    <message>
        <source>Open checkpoint file…</source>
        <translation>打开检查点文件…</translation>
    </message>
</context>
<context>
    <name>NetworkDiagram</name>
    <message>
        <source>Network diagram</source>
        <translation>网络结构图</translation>
    </message>
    <message>
        <source>Click a layer to step through how its values are computed.</source>
        <translation>点击一层，逐步查看它的值是怎样算出来的。</translation>
    </message>
    <message>
        <source>%1 parameters · %2 multiply-adds per image</source>
        <translation>%1 个参数 · 每张图像 %2 次乘加</translation>
    </message>
    <message>
        <source>%1 params</source>
        <translation>%1 个参数</translation>
    </message>
    <message>
        <source>no parameters</source>
        <translation>没有参数</translation>
    </message>
    <message>
        <source>%1 MACs</source>
        <translation>%1 次乘加</translation>
    </message>
    <message>
        <source>%1 parameters: %2</source>
        <translation>%1 的参数：%2</translation>
    </message>
    <message>
        <source>%1 multiply-adds: %2</source>
        <translation>%1 的乘加：%2</translation>
    </message>
</context>
<context>
    <name>NetworkTab</name>
    <message>
        <source>&amp;Layer:</source>
        <translation>层(&amp;L)：</translation>
    </message>
    <message>
        <source>Step through</source>
        <translation>逐步计算</translation>
    </message>
    <message>
        <source>Layer table</source>
        <translation>层表</translation>
    </message>
    <message>
        <source>print(net)</source>
        <translation>print(net)</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Output shape</source>
        <translation>输出形状</translation>
    </message>
    <message>
        <source>Shape arithmetic</source>
        <translation>形状的算式</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>Multiply-adds</source>
        <translation>乘加</translation>
    </message>
    <message>
        <source>■ Stop</source>
        <translation>■ 停止</translation>
    </message>
    <message>
        <source>▶ Play</source>
        <translation>▶ 播放</translation>
    </message>
    <message>
        <source>Sweep the window across the layer, value after value</source>
        <translation>让窗口在这一层上逐个值地滑过</translation>
    </message>
    <message>
        <source>total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>No model loaded: choose one in the Classify tab, open a checkpoint (File ▸ Open), or train one in the Train tab.</source>
        <translation>未加载模型：请在“分类”页选择一个，打开一个检查点（文件 ▸ 打开），或在“训练”页训练一个。</translation>
    </message>
    <message>
        <source>No input yet: draw a digit or drop an image in the Classify tab, or click a test image in the Inspect tab.</source>
        <translation>还没有输入：请在“分类”页手写一个数字或拖入一张图像，或在“探查”页点击一张测试图像。</translation>
    </message>
    <message>
        <source>The input is blank: there is nothing to compute.</source>
        <translation>输入是空白的：没有可计算的内容。</translation>
    </message>
    <message>
        <source>This input cannot be shown: %1</source>
        <translation>无法显示这个输入：%1</translation>
    </message>
    <message>
        <source>%1 = %2 · arrow keys: neighbours · click a value to explain it</source>
        <translation>%1 = %2 · 方向键：相邻的值 · 点击一个值查看它的计算</translation>
    </message>
</context>
<context>
    <name>ProbabilityChart</name>
    <message>
        <source>Class probabilities</source>
        <translation>类别概率</translation>
    </message>
    <message>
        <source>No prediction yet</source>
        <translation>还没有预测</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
</context>
<context>
    <name>ProjectorTab</name>
    <message>
        <source>&amp;Layer:</source>
        <translation>层(&amp;L)：</translation>
    </message>
    <message>
        <source>M&amp;ethod:</source>
        <translation>方法(&amp;E)：</translation>
    </message>
    <message>
        <source>%1 (%2 values)</source>
        <translation>%1（%2 个值）</translation>
    </message>
    <message>
        <source>PCA (at once)</source>
        <translation>PCA（即时）</translation>
    </message>
    <message>
        <source>t-SNE (computed in the background)</source>
        <translation>t-SNE（在后台计算）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Map of the test set</source>
        <translation>测试集的分布图</translation>
    </message>
    <message>
        <source>Each point is a test image, coloured by its true class; rings are images the model gets wrong, the diamond is the current input.</source>
        <translation>每个点是一张测试图像，按其真实类别着色；圆环是模型分错的图像，菱形是当前输入。</translation>
    </message>
    <message>
        <source>Test image under the pointer</source>
        <translation>指针下的测试图像</translation>
    </message>
    <message>
        <source>Back into the tab</source>
        <translation>放回选项卡</translation>
    </message>
    <message>
        <source>Open in its own window</source>
        <translation>在单独的窗口中打开</translation>
    </message>
    <message>
        <source>In a window of its own, the map stays in view while you draw in the Classify tab, and the diamond follows the pen.</source>
        <translation>在单独的窗口中，你在“分类”选项卡中绘画时分布图仍然可见，菱形会跟随笔迹移动。</translation>
    </message>
    <message>
        <source>The projector is open in its own window.</source>
        <translation>投影已在单独的窗口中打开。</translation>
    </message>
    <message>
        <source>Bring it back here</source>
        <translation>放回这里</translation>
    </message>
    <message>
        <source>LeNet Studio · Projector</source>
        <translation>LeNet Studio · 投影</translation>
    </message>
    <message>
        <source>Each point is a test image, placed by what the chosen layer makes of it. Hover over a point to see the image; click it to make it the current input. Draw in the Classify tab and watch the diamond move.</source>
        <translation>每个点是一张测试图像，其位置取决于所选层对它的输出。将指针悬停在点上可查看图像；点击可将其设为当前输入。在“分类”选项卡中绘画，菱形会随之移动。</translation>
    </message>
    <message>
        <source>No model loaded: open or train one to see how it arranges its test set.</source>
        <translation>未加载模型：打开或训练一个模型，即可查看它如何排布测试集。</translation>
    </message>
    <message>
        <source>This model does not say which data set it was trained on, so there is no test set to project.</source>
        <translation>此模型没有注明它是在哪个数据集上训练的，因此没有可投影的测试集。</translation>
    </message>
    <message>
        <source>Computing t-SNE of %1 for %2 test images of %3 with “%4”…</source>
        <translation>正在用“%4”计算 %3 的 %2 张测试图像在 %1 上的 t-SNE…</translation>
    </message>
    <message>
        <source>Computing PCA of %1 for the %2 test set with “%3”…</source>
        <translation>正在用“%3”计算 %2 测试集在 %1 上的 PCA…</translation>
    </message>
    <message>
        <source>Cannot project the test set: %1</source>
        <translation>无法投影测试集：%1</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Cancelled: nothing is shown until it is computed.</source>
        <translation>已取消：计算完成前不显示任何内容。</translation>
    </message>
    <message>
        <source>Compute t-SNE</source>
        <translation>计算 t-SNE</translation>
    </message>
    <message>
        <source>Compute PCA</source>
        <translation>计算 PCA</translation>
    </message>
    <message>
        <source>&lt;b&gt;PCA of %1&lt;/b&gt; (%2 values per image) · all %3 test images · the axes explain %4 and %5 of the variance · %6 misclassified · model: %7</source>
        <translation>&lt;b&gt;%1 的 PCA&lt;/b&gt;（每张图像 %2 个值）· 全部 %3 张测试图像 · 两个坐标轴分别解释了 %4 和 %5 的方差 · 分错 %6 张 · 模型：%7</translation>
    </message>
    <message>
        <source>&lt;b&gt;t-SNE of %1&lt;/b&gt; (%2 values per image) · %3 of the %4 test images (a fixed sample) · %5 misclassified · model: %6</source>
        <translation>&lt;b&gt;%1 的 t-SNE&lt;/b&gt;（每张图像 %2 个值）· %4 张测试图像中的 %3 张（固定样本）· 分错 %5 张 · 模型：%6</translation>
    </message>
    <message>
        <source>Hover over a point to see its test image.</source>
        <translation>将指针悬停在点上可查看其测试图像。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Test image #%1&lt;/b&gt;&lt;br&gt;true: %2&lt;br&gt;predicted: %3 ✓</source>
        <translation>&lt;b&gt;测试图像 #%1&lt;/b&gt;&lt;br&gt;真实：%2&lt;br&gt;预测：%3 ✓</translation>
    </message>
    <message>
        <source>&lt;b&gt;Test image #%1&lt;/b&gt;&lt;br&gt;true: %2&lt;br&gt;&lt;span style=&apos;color:#c62828&apos;&gt;predicted: %3 ✗&lt;/span&gt;</source>
        <translation>&lt;b&gt;测试图像 #%1&lt;/b&gt;&lt;br&gt;真实：%2&lt;br&gt;&lt;span style=&apos;color:#c62828&apos;&gt;预测：%3 ✗&lt;/span&gt;</translation>
    </message>
    <message>
        <source>No input yet: draw in the Classify tab or click a point.</source>
        <translation>还没有输入：在“分类”选项卡中绘画，或点击一个点。</translation>
    </message>
    <message>
        <source>input</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>◆ Current input: %1</source>
        <translation>◆ 当前输入：%1</translation>
    </message>
</context>
<context>
    <name>RecipeForm</name>
    <message>
        <source>&amp;Data set:</source>
        <translation>数据集(&amp;D)：</translation>
    </message>
    <message>
        <source>&amp;Preset:</source>
        <translation>预设(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Epochs:</source>
        <translation>轮数(&amp;E)：</translation>
    </message>
    <message>
        <source>&amp;Batch size:</source>
        <translation>批量大小(&amp;B)：</translation>
    </message>
    <message>
        <source>&amp;Learning rate:</source>
        <translation>学习率(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Optimizer:</source>
        <translation>优化器(&amp;O)：</translation>
    </message>
    <message>
        <source>De&amp;vice:</source>
        <translation>设备(&amp;V)：</translation>
    </message>
    <message>
        <source>&amp;Seed:</source>
        <translation>随机种子(&amp;S)：</translation>
    </message>
    <message>
        <source>classic (the tutorial&apos;s recipe)</source>
        <translation>经典（教程原版配方）</translation>
    </message>
    <message>
        <source>modern (ReLU, batch norm)</source>
        <translation>现代（ReLU、批量规范化）</translation>
    </message>
    <message>
        <source>robust (real inputs, calibrated)</source>
        <translation>稳健（真实输入，已校准）</translation>
    </message>
    <message>
        <source>SGD (momentum 0.9)</source>
        <translation>SGD（动量 0.9）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>Learning rate (the peak rate for the one-cycle schedule), e.g. 0.001 or 1e-3</source>
        <translation>学习率（单周期调度时为峰值学习率），例如 0.001 或 1e-3</translation>
    </message>
    <message>
        <source>Sigmoid activations, max pooling, constant learning rate, no augmentation: d2l&apos;s LeNet exactly.</source>
        <translation>sigmoid 激活函数、最大池化、固定学习率、不做数据增广：与 d2l 的 LeNet 完全一致。</translation>
    </message>
    <message>
        <source>ReLU</source>
        <translation>ReLU</translation>
    </message>
    <message>
        <source>sigmoid</source>
        <translation>sigmoid</translation>
    </message>
    <message>
        <source>one-cycle schedule</source>
        <translation>单周期学习率调度</translation>
    </message>
    <message>
        <source>cosine schedule</source>
        <translation>余弦学习率调度</translation>
    </message>
    <message>
        <source>trained on inputs like users&apos; own (strokes, scans, photos)</source>
        <translation>在类似用户真实输入的数据上训练（笔画、扫描、照片）</translation>
    </message>
    <message>
        <source>the last %1 training images held out to calibrate its percentages and to tell unfamiliar inputs apart</source>
        <translation>留出最后 %1 张训练图像，用于校准概率并识别陌生输入</translation>
    </message>
    <message>
        <source>batch norm</source>
        <translation>批量规范化</translation>
    </message>
    <message>
        <source>normalised input</source>
        <translation>标准化输入</translation>
    </message>
    <message>
        <source>weight decay %1</source>
        <translation>权重衰减 %1</translation>
    </message>
    <message>
        <source>label smoothing %1</source>
        <translation>标签平滑 %1</translation>
    </message>
    <message>
        <source>dropout %1</source>
        <translation>暂退法（dropout）%1</translation>
    </message>
    <message>
        <source>random shifts of up to %1 px</source>
        <translation>随机平移（最多 %1 像素）</translation>
    </message>
    <message>
        <source>random left-right flips</source>
        <translation>随机左右翻转</translation>
    </message>
    <message>
        <source>outlier exposure %1</source>
        <translation>离群样本暴露 %1</translation>
    </message>
    <message>
        <source>The learning rate %1 is not a number; write it like 0.001 or 1e-3.</source>
        <translation>学习率 %1 不是一个数；请写成 0.001 或 1e-3 这样的形式。</translation>
    </message>
</context>
<context>
    <name>ReliabilityDiagram</name>
    <message>
        <source>Reliability diagram</source>
        <translation>可靠性图</translation>
    </message>
    <message>
        <source>Each bar is a band of confidence: its height is how often the model was right when it was that sure. On the diagonal, the percentages mean what they say.</source>
        <translation>每根柱子对应一段置信度：柱高是模型在这种把握下预测正确的比例。落在对角线上，说明百分比名副其实。</translation>
    </message>
    <message>
        <source>Expected calibration error %1 over %2 bins</source>
        <translation>期望校准误差 %1（%2 个区间）</translation>
    </message>
    <message>
        <source>Share right, by confidence</source>
        <translation>按置信度统计的正确率</translation>
    </message>
    <message>
        <source>Confidence</source>
        <translation>置信度</translation>
    </message>
</context>
<context>
    <name>RunFiles</name>
    <message>
        <source>Save checkpoint</source>
        <translation>保存检查点</translation>
    </message>
    <message>
        <source>LeNet Studio checkpoints (*.pt)</source>
        <translation>LeNet Studio 检查点 (*.pt)</translation>
    </message>
    <message>
        <source>saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Export metrics</source>
        <translation>导出指标</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>已导出 %1</translation>
    </message>
    <message>
        <source>Export chart</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>Cannot write the chart to %1.</source>
        <translation>无法将图表写入 %1。</translation>
    </message>
    <message>
        <source>Export as Python script</source>
        <translation>导出为 Python 脚本</translation>
    </message>
    <message>
        <source>Python scripts (*.py)</source>
        <translation>Python 脚本 (*.py)</translation>
    </message>
    <message>
        <source>wrote the recipe as a script: %1 (run it with: python %2 --data-root DIR)</source>
        <translation>已将训练配方写成脚本：%1（运行方式：python %2 --data-root DIR）</translation>
    </message>
</context>
<context>
    <name>RunsModel</name>
    <message numerus="yes">
        <source>%n epoch(s), batch %1, %2 lr %3, seed %4, %5</source>
        <translation>
            <numerusform>%n 轮，批量大小 %1，%2 学习率 %3，随机种子 %4，%5</numerusform>
        </translation>
    </message>
    <message>
        <source>%1
Note: %2</source>
        <translation>%1
备注：%2</translation>
    </message>
    <message>
        <source>%1 · %2 · %3</source>
        <translation>%1 · %2 · %3</translation>
    </message>
    <message>
        <source>Run %1 · %2 · %3</source>
        <translation>运行 %1 · %2 · %3</translation>
    </message>
    <message>
        <source>%1: failed</source>
        <translation>%1：失败</translation>
    </message>
    <message>
        <source>%1: test acc %2</source>
        <translation>%1：测试准确率 %2</translation>
    </message>
    <message>
        <source>%1 (stopped)</source>
        <translation>%1（已停止）</translation>
    </message>
    <message>
        <source>%1 (interrupted)</source>
        <translation>%1（已中断）</translation>
    </message>
    <message>
        <source>%1 (running elsewhere)</source>
        <translation>%1（正在别处运行）</translation>
    </message>
</context>
<context>
    <name>RunsPanel</name>
    <message>
        <source>Runs</source>
        <translation>运行记录</translation>
    </message>
    <message>
        <source>This session&apos;s runs and the run history: tick a run to show it on the chart; Ctrl+click to select several and compare them</source>
        <translation>本次会话的运行和历史运行：勾选一次运行即可在图表中显示；按住 Ctrl 点击可选择多次运行进行比较</translation>
    </message>
    <message>
        <source>&amp;Rename…</source>
        <translation>重命名(&amp;R)…</translation>
    </message>
    <message>
        <source>Give the selected run a name of your own</source>
        <translation>为所选运行起一个自己的名字</translation>
    </message>
    <message>
        <source>Note…</source>
        <translation>备注…</translation>
    </message>
    <message>
        <source>Write a note about the selected run</source>
        <translation>为所选运行写一条备注</translation>
    </message>
    <message>
        <source>Delete run</source>
        <translation>删除运行</translation>
    </message>
    <message>
        <source>Delete the selected run from the list and the run history (Undo brings it back)</source>
        <translation>从列表和运行历史中删除所选运行（可撤销）</translation>
    </message>
    <message>
        <source>&amp;Undo delete</source>
        <translation>撤销删除(&amp;U)</translation>
    </message>
    <message>
        <source>Bring back the run deleted last</source>
        <translation>恢复最近删除的运行</translation>
    </message>
    <message>
        <source>Comp&amp;are…</source>
        <translation>比较(&amp;A)…</translation>
    </message>
    <message>
        <source>Compare the selected runs (or every ticked run): the settings that differ and the final figures</source>
        <translation>比较所选运行（或所有已勾选的运行）：不同的设置及最终指标</translation>
    </message>
    <message>
        <source>Train a&amp;gain</source>
        <translation>再次训练(&amp;G)</translation>
    </message>
    <message>
        <source>Put the selected run&apos;s settings into the form</source>
        <translation>将所选运行的设置填入表单</translation>
    </message>
    <message>
        <source>Change…</source>
        <translation>更改…</translation>
    </message>
    <message>
        <source>Keep the run history in another folder</source>
        <translation>将运行历史保存到另一个文件夹</translation>
    </message>
    <message>
        <source>Run history: %1</source>
        <translation>运行历史：%1</translation>
    </message>
</context>
<context>
    <name>SaliencyCanvas</name>
    <message>
        <source>Saliency map</source>
        <translation>显著性图</translation>
    </message>
    <message>
        <source>The input with the pixels that drove the chosen class&apos;s score highlighted, from dark (low) to yellow (high).</source>
        <translation>输入图像，其中决定所选类别得分的像素被高亮显示，从暗色（低）到黄色（高）。</translation>
    </message>
    <message>
        <source>high</source>
        <translation>高</translation>
    </message>
    <message>
        <source>low</source>
        <translation>低</translation>
    </message>
</context>
<context>
    <name>SaliencyPanel</name>
    <message>
        <source>No input.</source>
        <translation>没有输入。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Saliency&lt;/b&gt;: which pixels drove the score</source>
        <translation>&lt;b&gt;显著性图&lt;/b&gt;：哪些像素决定了得分</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <source>Class:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <source>Plain gradients |∂score/∂pixel|</source>
        <translation>普通梯度 |∂得分/∂像素|</translation>
    </message>
    <message>
        <source>Grad-CAM on conv2</source>
        <translation>基于 conv2 的 Grad-CAM</translation>
    </message>
    <message>
        <source>Plain gradients: how much a small change of each input pixel changes the class&apos;s score.
Grad-CAM: conv2&apos;s 16 feature maps weighted by how much each one raises the class&apos;s score, mapped back onto the input.</source>
        <translation>普通梯度：每个输入像素的微小变化会使该类别的得分改变多少。
Grad-CAM：conv2 的 16 个特征图按各自对该类别得分的提升加权，再映射回输入上。</translation>
    </message>
    <message>
        <source>Top class (the prediction)</source>
        <translation>得分最高的类别（预测结果）</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>%1 for “%2”, the predicted class (%3).</source>
        <translation>%1：“%2”，即预测的类别（%3）。</translation>
    </message>
    <message>
        <source>%1 for “%2” (%3); the model predicts “%4”.</source>
        <translation>%1：“%2”（%3）；模型预测为“%4”。</translation>
    </message>
</context>
<context>
    <name>Session</name>
    <message>
        <source>Bundled: MNIST digits</source>
        <translation>内置：MNIST 手写数字</translation>
    </message>
    <message>
        <source>Bundled: Fashion-MNIST garments</source>
        <translation>内置：Fashion-MNIST 服饰</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Open the %1 menu</source>
        <translation>打开“%1”菜单</translation>
    </message>
    <message>
        <source>Tabs</source>
        <translation>标签页</translation>
    </message>
    <message>
        <source>Show the %1 tab</source>
        <translation>显示“%1”页</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Menu</source>
        <translation>菜单</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Keys</source>
        <translation>按键</translation>
    </message>
    <message>
        <source>%1 shortcuts: menu, action and keys on each row</source>
        <translation>%1 个快捷键：每行为菜单、操作和按键</translation>
    </message>
</context>
<context>
    <name>StartupScreen</name>
    <message>
        <source>Loading PyTorch…</source>
        <translation>正在加载 PyTorch…</translation>
    </message>
    <message>
        <source>Loading what training needs…</source>
        <translation>正在加载训练所需的组件…</translation>
    </message>
    <message>
        <source>Opening the window…</source>
        <translation>正在打开窗口…</translation>
    </message>
</context>
<context>
    <name>TestSetPanel</name>
    <message>
        <source>Rows: true class · columns: predicted class</source>
        <translation>行：真实类别 · 列：预测类别</translation>
    </message>
    <message>
        <source>All misclassified</source>
        <translation>全部分错的</translation>
    </message>
    <message>
        <source>Reliability</source>
        <translation>可靠性图</translation>
    </message>
    <message>
        <source>Show how often the model was right at each confidence, in the gallery&apos;s place</source>
        <translation>在图库的位置显示模型在各置信度下预测正确的比例</translation>
    </message>
    <message>
        <source>No model loaded: open or train one to see how it does on its test set.</source>
        <translation>未加载模型：打开或训练一个模型，即可查看它在测试集上的表现。</translation>
    </message>
    <message>
        <source>This model does not say which data set it was trained on, so there is no test set to evaluate it on.</source>
        <translation>此模型没有注明它是在哪个数据集上训练的，因此没有可用于评估的测试集。</translation>
    </message>
    <message>
        <source>Downloading the %1 test set (about %2 MB), then classifying it with “%3”…</source>
        <translation>正在下载 %1 测试集（约 %2 MB），然后用“%3”对其进行分类…</translation>
    </message>
    <message>
        <source>Classifying the %1 test set with “%2”…</source>
        <translation>正在用“%2”对 %1 测试集进行分类…</translation>
    </message>
    <message>
        <source>Cannot evaluate on the test set: %1</source>
        <translation>无法在测试集上评估：%1</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Expected calibration error %1 (%2 bins) · mean confidence %3 · temperature %4</source>
        <translation>期望校准误差 %1（%2 个区间）· 平均置信度 %3 · 温度 %4</translation>
    </message>
    <message>
        <source>Expected calibration error %1 (%2 bins) · mean confidence %3 · temperature %4 · called unfamiliar: %5</source>
        <translation>期望校准误差 %1（%2 个区间）· 平均置信度 %3 · 温度 %4 · 判为陌生输入：%5</translation>
    </message>
    <message>
        <source>&lt;b&gt;Test accuracy %1&lt;/b&gt; on the %2 test images of %3 (%4 misclassified) · model: %5</source>
        <translation>&lt;b&gt;测试准确率 %1&lt;/b&gt;，基于 %3 的 %2 张测试图像（分错 %4 张）· 模型：%5</translation>
    </message>
    <message>
        <source>&lt;b&gt;Misclassified&lt;/b&gt;: %1 images, most confident first. Click one to inspect it.</source>
        <translation>&lt;b&gt;分错的图像&lt;/b&gt;：%1 张，置信度最高的在前。点击一张即可探查。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Correct&lt;/b&gt; “%1”: %2 images, most confident first.</source>
        <translation>&lt;b&gt;分对的&lt;/b&gt;“%1”：%2 张，置信度最高的在前。</translation>
    </message>
    <message>
        <source>&lt;b&gt;True “%1”, predicted “%2”&lt;/b&gt;: %3 images, most confident first.</source>
        <translation>&lt;b&gt;真实为“%1”，预测为“%2”&lt;/b&gt;：%3 张，置信度最高的在前。</translation>
    </message>
</context>
<context>
    <name>TrainTab</name>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>&amp;Train</source>
        <translation>训练(&amp;T)</translation>
    </message>
    <message>
        <source>Start training</source>
        <translation>开始训练</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>Pause or resume training</source>
        <translation>暂停或继续训练</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>Stop training after the current batch</source>
        <translation>在当前批次结束后停止训练</translation>
    </message>
    <message>
        <source>&amp;Save checkpoint…</source>
        <translation>保存检查点(&amp;S)…</translation>
    </message>
    <message>
        <source>Save the selected run&apos;s model as a checkpoint</source>
        <translation>将所选运行的模型保存为检查点</translation>
    </message>
    <message>
        <source>Export &amp;metrics (CSV)…</source>
        <translation>导出指标 (CSV)(&amp;M)…</translation>
    </message>
    <message>
        <source>Save the selected run&apos;s per-epoch figures as CSV</source>
        <translation>将所选运行每一轮的数据保存为 CSV</translation>
    </message>
    <message>
        <source>Export &amp;chart (PNG)…</source>
        <translation>导出图表 (PNG)(&amp;C)…</translation>
    </message>
    <message>
        <source>Save the chart as a PNG image</source>
        <translation>将图表保存为 PNG 图像</translation>
    </message>
    <message>
        <source>&amp;Use in Classify</source>
        <translation>用于分类(&amp;U)</translation>
    </message>
    <message>
        <source>Classify drawings and photos with the selected run&apos;s model</source>
        <translation>用所选运行的模型对手写和照片进行分类</translation>
    </message>
    <message>
        <source>Export as P&amp;ython script…</source>
        <translation>导出为 Python 脚本(&amp;Y)…</translation>
    </message>
    <message>
        <source>Write the recipe on screen as a standalone PyTorch script in the tutorial&apos;s style</source>
        <translation>将当前的训练配方写成教程风格的独立 PyTorch 脚本</translation>
    </message>
    <message>
        <source>Open in &amp;Inspect</source>
        <translation>在探查中打开(&amp;I)</translation>
    </message>
    <message>
        <source>Look inside the selected run&apos;s model: feature maps, filters, saliency</source>
        <translation>查看所选运行的模型内部：特征图、卷积核、显著性</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Curves</source>
        <translation>曲线</translation>
    </message>
    <message>
        <source>Diagnostics</source>
        <translation>诊断</translation>
    </message>
    <message>
        <source>Each layer&apos;s gradients, weights, updates and activations for the selected run</source>
        <translation>所选运行中每一层的梯度、权重、更新量和激活情况</translation>
    </message>
    <message>
        <source>One line per epoch appears here: loss, train and test accuracy, time.</source>
        <translation>每一轮在这里显示一行：损失、训练准确率和测试准确率、用时。</translation>
    </message>
    <message numerus="yes">
        <source>— %1: %n epoch(s), batch %2, %3 lr %4 —</source>
        <translation>
            <numerusform>— %1：%n 轮，批量大小 %2，%3 学习率 %4 —</numerusform>
        </translation>
    </message>
    <message>
        <source>Training %1 on %2…</source>
        <translation>正在 %2 上训练 %1…</translation>
    </message>
    <message>
        <source>Training resumed</source>
        <translation>训练已继续</translation>
    </message>
    <message>
        <source>Training paused</source>
        <translation>训练已暂停</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Epoch %1/%2 · batch %3/%4 · loss %5</source>
        <translation>第 %1/%2 轮 · 批次 %3/%4 · 损失 %5</translation>
    </message>
    <message>
        <source>Epoch %1/%2 · testing…</source>
        <translation>第 %1/%2 轮 · 正在测试…</translation>
    </message>
    <message>
        <source>Loading the data set…</source>
        <translation>正在加载数据集…</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Paused — %1</source>
        <translation>已暂停 — %1</translation>
    </message>
    <message>
        <source>%1 samples/s · epoch %2 left · run %3 left</source>
        <translation>%1 样本/秒 · 本轮剩余 %2 · 全部剩余 %3</translation>
    </message>
    <message>
        <source>Loading data…</source>
        <translation>正在加载数据…</translation>
    </message>
    <message>
        <source>Paused: epoch %1/%2</source>
        <translation>已暂停：第 %1/%2 轮</translation>
    </message>
    <message>
        <source>Training: epoch %1/%2</source>
        <translation>训练中：第 %1/%2 轮</translation>
    </message>
    <message numerus="yes">
        <source>training on %1 (%n thread(s)), %2 training and %3 test images from %4</source>
        <translation>
            <numerusform>在 %1 上训练（%n 个线程），%2 张训练图像和 %3 张测试图像，来自 %4</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>stopped after %1 of %n epoch(s)</source>
        <translation>
            <numerusform>在 %n 轮中的第 %1 轮后停止</numerusform>
        </translation>
    </message>
    <message>
        <source>The run cannot be recorded in the run history (see the log)</source>
        <translation>无法将本次运行记录到运行历史（详见日志）</translation>
    </message>
    <message>
        <source>Training diverged</source>
        <translation>训练发散</translation>
    </message>
    <message>
        <source>Data set problem</source>
        <translation>数据集有问题</translation>
    </message>
    <message>
        <source>Cannot train</source>
        <translation>无法训练</translation>
    </message>
    <message>
        <source>Out of memory</source>
        <translation>内存不足</translation>
    </message>
    <message>
        <source>Training failed</source>
        <translation>训练失败</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>Training stopped</source>
        <translation>训练已停止</translation>
    </message>
    <message>
        <source>Training finished: test accuracy %1</source>
        <translation>训练完成：测试准确率 %1</translation>
    </message>
    <message>
        <source>Deleted %1 (Undo delete brings it back)</source>
        <translation>已删除 %1（“撤销删除”可恢复）</translation>
    </message>
    <message>
        <source>Rename run</source>
        <translation>重命名运行</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>A note about %1:</source>
        <translation>关于 %1 的备注：</translation>
    </message>
    <message>
        <source>The settings of %1 are in the form: click Train</source>
        <translation>%1 的设置已填入表单：点击“训练”即可</translation>
    </message>
    <message>
        <source>Select two runs or more (Ctrl+click) to compare them</source>
        <translation>请选择两次或更多运行（按住 Ctrl 点击）进行比较</translation>
    </message>
    <message>
        <source>Run history: %1 cannot be read (%2); skipped</source>
        <translation>运行历史：无法读取 %1（%2），已跳过</translation>
    </message>
    <message numerus="yes">
        <source>%n run(s) in the history cannot be read: see the log</source>
        <translation>
            <numerusform>运行历史中有 %n 次运行无法读取：详见日志</numerusform>
        </translation>
    </message>
    <message>
        <source>The run history stays in %1: --runs-dir or LENET_RUNS_DIR chooses it for this start.</source>
        <translation>运行历史仍保存在 %1：本次启动由 --runs-dir 或 LENET_RUNS_DIR 指定。</translation>
    </message>
    <message>
        <source>Folder of the run history</source>
        <translation>运行历史所在文件夹</translation>
    </message>
    <message>
        <source>Trained: %1</source>
        <translation>已训练：%1</translation>
    </message>
    <message>
        <source>%1, test acc %2</source>
        <translation>%1，测试准确率 %2</translation>
    </message>
    <message>
        <source>%1 is now the model in use</source>
        <translation>%1 现在是正在使用的模型</translation>
    </message>
    <message>
        <source>The %1 data set is missing</source>
        <translation>缺少 %1 数据集</translation>
    </message>
</context>
<context>
    <name>TrainingChart</name>
    <message>
        <source>batch loss (smoothed)</source>
        <translation>批次损失（平滑）</translation>
    </message>
    <message>
        <source>epoch loss</source>
        <translation>每轮损失</translation>
    </message>
    <message>
        <source>train acc</source>
        <translation>训练准确率</translation>
    </message>
    <message>
        <source>test acc</source>
        <translation>测试准确率</translation>
    </message>
    <message>
        <source>Training chart</source>
        <translation>训练图表</translation>
    </message>
    <message>
        <source>Loss and accuracy per epoch for each run; the epoch log below gives the same figures as text.</source>
        <translation>每次运行每一轮的损失和准确率；下方的轮次日志以文字给出相同的数据。</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>cross-entropy loss</source>
        <translation>交叉熵损失</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
</context>
<context>
    <name>classes</name>
    <message>
        <source>T-shirt/top</source>
        <translation>T恤/上衣</translation>
    </message>
    <message>
        <source>Trouser</source>
        <translation>裤子</translation>
    </message>
    <message>
        <source>Pullover</source>
        <translation>套头衫</translation>
    </message>
    <message>
        <source>Dress</source>
        <translation>连衣裙</translation>
    </message>
    <message>
        <source>Coat</source>
        <translation>外套</translation>
    </message>
    <message>
        <source>Sandal</source>
        <translation>凉鞋</translation>
    </message>
    <message>
        <source>Shirt</source>
        <translation>衬衫</translation>
    </message>
    <message>
        <source>Sneaker</source>
        <translation>运动鞋</translation>
    </message>
    <message>
        <source>Bag</source>
        <translation>包</translation>
    </message>
    <message>
        <source>Ankle boot</source>
        <translation>短靴</translation>
    </message>
</context>
<context>
    <name>models</name>
    <message>
        <source>LeNet (%1) on %2</source>
        <translation>%2 上的 LeNet（%1）</translation>
    </message>
</context>
<context>
    <name>presets</name>
    <message>
        <source>classic</source>
        <translation>经典</translation>
    </message>
    <message>
        <source>modern</source>
        <translation>现代</translation>
    </message>
    <message>
        <source>robust</source>
        <translation>稳健</translation>
    </message>
</context>
</TS>
