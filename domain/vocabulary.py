"""The ledger's vocabulary (词汇表): the one place that names, in Chinese, every event type,
state, role, department, category, rule id, rulebook parameter, refusal class, command and
input-error reason that people read.

Pure data and small lookup functions; imports nothing (no adapters, no other domain module),
so every layer — domain, projections, CLI, web, exports, explanations — can import it. A
lookup never fails: an unknown key falls back to a neutral Chinese phrase (never an English
sentence). ``tests/contract/test_vocabulary.py`` walks the registered event classes, refusal classes,
rulebook fields, roles and web pages and fails when a name is missing here.
"""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, Mapping

# -- events (qualified class name as stored in a topic, e.g. "Organization.BranchRegistered")

EVENTS: Mapping[str, str] = MappingProxyType({
    # users and roles
    "Access.Created": "建立用户目录", "Access.Opened": "建立用户目录", "Access.UserCreated": "创建用户",
    "Access.RoleGranted": "授予角色", "Access.RoleRevoked": "撤销角色", "Access.TokenIssued": "签发令牌",
    "Access.TokenRevoked": "吊销令牌",
    # organization
    "Organization.Created": "建立党组织", "Organization.BranchRegistered": "登记支部",
    "Organization.MembersSet": "变更党员人数", "Organization.MonthSealed": "封存月份",
    "Organization.RulebookAdopted": "通过考核细则", "Organization.SecretaryAppointed": "任命支部书记",
    # months, quarters, years
    "AssessmentMonth.Created": "建立月度考核", "AssessmentMonth.Opened": "开始月度考核",
    "AssessmentMonth.ScoreRecorded": "录入得分", "AssessmentMonth.EntryCorrected": "更正得分",
    "AssessmentMonth.EntryVoided": "作废条目", "AssessmentMonth.BusinessScoreRecorded": "录入经营得分",
    "AssessmentMonth.Submitted": "提交月度", "AssessmentMonth.Returned": "退回月度",
    "AssessmentMonth.Approved": "审批月度",
    "AssessmentQuarter.Created": "建立季度评比", "AssessmentQuarter.Opened": "开始季度评比",
    "AssessmentQuarter.Approved": "审批季度排名", "AssessmentQuarter.Reapproved": "重新审批季度排名",
    "AssessmentQuarter.AwardGranted": "季度奖励", "AssessmentQuarter.FineImposed": "季度罚款",
    "AssessmentQuarter.AmountAdjusted": "奖罚调整",
    "AssessmentYear.Created": "建立年度总评", "AssessmentYear.Opened": "开始年度总评",
    "AssessmentYear.Approved": "审批年度总评", "AssessmentYear.UnitPerformanceRecorded": "录入单位经营业绩",
    "AssessmentYear.DebriefingRecorded": "录入述职评分", "AssessmentYear.AwardGranted": "年度奖励",
    "AssessmentYear.FineImposed": "年度罚款", "AssessmentYear.QuotaSet": "下一年度指标",
    "AssessmentYear.Reapproved": "重新审批年度总评", "AssessmentYear.AmountAdjusted": "年度奖罚及指标调整",
    # appeals
    "EntryAppeals.Created": "建立申诉记录", "EntryAppeals.Opened": "申诉记录建立",
    "EntryAppeals.Filed": "提出申诉", "EntryAppeals.Decided": "申诉决定",
    # people and rosters
    "Person.Created": "建立人员档案", "Person.Registered": "登记人员", "Person.Admitted": "入党",
    "Person.ClassChanged": "变更党员类别", "Person.Left": "离开", "Person.Transferred": "转接组织关系",
    "BranchRoster.Created": "建立支部名册", "BranchRoster.Opened": "建立支部名册",
    "BranchRoster.MemberJoined": "加入支部", "BranchRoster.MemberLeft": "离开支部",
    # member points
    "MemberPoints.Created": "建立党员积分账", "MemberPoints.Opened": "建立党员积分账",
    "MemberPoints.MemberPointsRecorded": "录入个人积分", "MemberPoints.GroupPointsRecorded": "录入党小组积分",
    "MemberPoints.AppraisalRecorded": "录入年度评议积分", "MemberPoints.EntryVoided": "作废积分条目",
    "MemberPoints.OrganizationalLifeDerived": "按组织生活出勤计分",
    # 1+N links
    "BranchLinks.Created": "建立联系职工台账", "BranchLinks.Opened": "建立联系职工台账",
    "BranchLinks.EmployeeLinked": "联系职工", "BranchLinks.EmployeeUnlinked": "解除联系职工",
    "BranchLinks.QuotaSet": "设定联系职工人数",
    # mentoring
    "BranchMentoring.Created": "建立师带徒台账", "BranchMentoring.Opened": "建立师带徒台账",
    "BranchMentoring.PairRegistered": "登记师徒", "BranchMentoring.SkillResultRecorded": "录入技能成绩",
    "BranchMentoring.AppraisalRecorded": "录入徒弟评议",
    # projects, proposals, innovation
    "Project.Created": "建立项目", "Project.Registered": "登记项目", "Project.ProgressRecorded": "录入项目进展",
    "Project.Completed": "项目完成",
    "ProjectYear.Created": "建立年度项目台账", "ProjectYear.Opened": "建立年度项目台账",
    "ProjectYear.ProjectAdded": "加入年度项目",
    "Proposal.Created": "建立合理化建议", "Proposal.Submitted": "提交合理化建议",
    "InnovationAccount.Created": "建立创新积分账", "InnovationAccount.Opened": "建立创新积分账",
    "InnovationAccount.PointsAwarded": "授予创新积分",
    # selection
    "Selection.Created": "建立竞聘", "Selection.Opened": "开始竞聘",
    "Selection.RepresentativeSheetRecorded": "录入代表评分表", "Selection.LeaderSheetRecorded": "录入领导评分表",
    "Selection.Closed": "结束竞聘",
    # talks and visits
    "Occasion.Created": "建立谈心谈话事项", "Occasion.Raised": "提出谈话走访事项", "Occasion.Answered": "完成谈话走访",
    "PersonnelDecision.Created": "建立人事事项", "PersonnelDecision.Recorded": "记录人事事项",
    "PersonKey.Created": "建立个人密钥", "PersonKey.Erased": "销毁个人密钥",
    # meetings and dues
    "Meeting.Created": "建立会议记录", "Meeting.Recorded": "记录会议", "Meeting.AttendanceCorrected": "更正出勤",
    "Meeting.Voided": "作废会议",
    "DuesAccount.Created": "建立党费账户", "DuesAccount.Opened": "建立党费账户",
    "DuesAccount.BaseSet": "核定党费基数", "DuesAccount.PaymentRecorded": "记录党费交纳",
    "DuesAccount.PaymentVoided": "作废党费交纳",
    "DuesStatement.Created": "建立党费公示", "DuesStatement.Opened": "建立党费公示",
    "DuesStatement.Published": "公示党费",
    # signing keys
    "SigningKeys.Created": "建立签名密钥登记", "SigningKeys.Declared": "声明签名公钥",
    "SigningKeys.Rotated": "轮换签名密钥",
})

# -- states --------------------------------------------------------------------------------

PERIOD_STATES: Mapping[str, str] = MappingProxyType({  # month, quarter, year
    "draft": "草稿", "submitted": "已提交", "approved": "已审批", "open": "进行中", "returned": "已退回",
})
ENTRY_STATES: Mapping[str, str] = MappingProxyType({"recorded": "有效", "corrected": "已更正", "voided": "已作废"})
APPEAL_STATES: Mapping[str, str] = MappingProxyType({"open": "待决定", "upheld": "申诉成立", "rejected": "申诉驳回"})
ATTACHMENT_TYPES: Mapping[str, str] = MappingProxyType({  # media type → what a person calls it
    "application/pdf": "PDF 文件", "image/jpeg": "JPEG 图片", "image/png": "PNG 图片"})
ATTACHMENT_STATES: Mapping[str, str] = MappingProxyType({  # the stored file against the hash in the log
    "matches": "文件与日志中的 SHA-256 相符", "replaced": "文件已被替换：与日志中的 SHA-256 不符",
    "missing": "文件缺失：附件库中没有日志所记的文件", "unchecked": "未核对：未配置附件库"})
APPEAL_AGES: Mapping[str, str] = MappingProxyType({  # how long an open appeal has waited, against the filing window
    "within": "等待未满申诉期", "beyond": "等待已超过申诉期"})
CARE_STATES: Mapping[str, str] = MappingProxyType({
    "open": "待办", "overdue": "已超期", "answered": "已按期完成", "answered_late": "超期完成"})
SELECTION_STATES: Mapping[str, str] = MappingProxyType({"open": "评分中", "closed": "已结束"})
LINK_FLAGS: Mapping[str, str] = MappingProxyType({"under": "不足", "over": "超出", "ok": "达标"})
MODES: Mapping[str | None, str] = MappingProxyType({"full_time": "专职", "part_time": "兼职", None: "无书记"})
CORRECTION_CAUSES: Mapping[str, str] = MappingProxyType({"appeal": "申诉成立", "committee": "党委会更正"})
AMOUNT_KINDS: Mapping[str, str] = MappingProxyType({
    "award": "奖励", "fine": "罚款", "development_quota": "发展党员指标", "excellent_member_quota": "优秀党员指标"})
PERSON_KINDS: Mapping[str, str] = MappingProxyType({"member": "党员", "employee": "职工"})
DUES_CATEGORIES: Mapping[str, str] = MappingProxyType({"salaried": "在职", "retired": "离退休", "no_income": "无收入"})
DUES_CHANNELS: Mapping[str, str] = MappingProxyType({
    "payroll": "工资代扣", "cash": "现金", "bank_transfer": "银行转账", "wechat": "微信", "alipay": "支付宝",
    "online": "党建平台"})
MEETING_KINDS: Mapping[str, str] = MappingProxyType({
    "general_meeting": "支部党员大会", "committee_meeting": "支委会", "group_meeting": "党小组会",
    "party_lesson": "党课", "theme_day": "主题党日", "org_life_meeting": "组织生活会",
    "experience_meeting": "经验总结会", "problem_analysis_meeting": "问题分析会"})
ATTENDANCE: Mapping[str, str] = MappingProxyType({"present": "出席", "excused": "请假", "absent": "缺席"})
CARE_KINDS: Mapping[str, str] = MappingProxyType({"talk": "谈话", "visit": "走访"})
MEMBER_POINT_ITEMS: Mapping[str, str] = MappingProxyType({
    "political_study": "参加政治学习", "organizational_life": "参加党的组织生活",
    "assigned_tasks": "完成党组织交办的任务", "job_duties": "履行岗位职责",
    "discipline_integrity": "遵纪守法和廉洁自律", "mass_contact": "联系群众",
    "fighting_bad_behaviour": "同不良行为作斗争"})
MEMBER_POINT_PARTS: Mapping[str, str] = MappingProxyType({
    "individual": "个人行为", "group_work": "小组工作", "appraisal": "年度评议"})
MENTOR_STANDINGS: Mapping[str, str] = MappingProxyType({"member": "党员", "activist": "入党积极分子", "employee": "职工"})
SELECTION_OUTCOMES: Mapping[str, str] = MappingProxyType({
    "appointed": "聘任", "below_threshold": "低于门槛值，不予聘任", "tie": "并列第一，由党委另行决定"})
MEMBER_CLASSES: Mapping[str, str] = MappingProxyType({
    "A": "高层及中层管理人员", "B": "生产经营一线人员", "C": "一般管理和专业技术人员", "D": "离退休党员"})

STATES: Mapping[str, Mapping[Any, str]] = MappingProxyType({  # every state table, by what it describes
    "period": PERIOD_STATES, "entry": ENTRY_STATES, "appeal": APPEAL_STATES, "care": CARE_STATES,
    "selection": SELECTION_STATES, "link": LINK_FLAGS, "mode": MODES, "attendance": ATTENDANCE,
    "outcome": SELECTION_OUTCOMES, "attachment": ATTACHMENT_STATES, "appeal_age": APPEAL_AGES,
})

# -- roles and departments ---------------------------------------------------------------

DEPARTMENTS: Mapping[str, str] = MappingProxyType({
    "party_mass": "党群工作部", "discipline_inspection": "纪检监察部", "office": "办公室",
})
ROLES: Mapping[str, str] = MappingProxyType({  # short names (menus, lists)
    "aggregator": "汇总员", "approver": "党委书记（审批）", "committee": "党委会", "registrar": "登记员",
    "performance": "经营业绩录入", "auditor": "纪检监察（审计）", "admin": "系统管理员", "migrator": "历史数据迁移",
})
ROLE_DUTIES: Mapping[str, str] = MappingProxyType({  # role → who holds it and what it does
    "aggregator": "汇总员（提交月度）",
    "approver": "党委书记（审批月度、季度）",
    "committee": "党委会（年度、申诉决定、述职评分、考核细则）",
    "registrar": "登记员（支部、书记、党员、职工）",
    "performance": "经营业绩录入（单位业绩、经营得分）",
    "auditor": "纪检审计（只读，会签检查点）",
    "admin": "系统管理员（仅用户与角色）",
    "migrator": "历史数据迁移",
})

# -- assessment categories and rule ids ----------------------------------------------------

CATEGORIES: Mapping[str, str] = MappingProxyType({
    "political": "政治建设", "ideological": "思想建设", "organizational": "组织建设",
    "conduct": "作风建设", "discipline": "纪律建设", "anti_corruption": "反腐败斗争",
    "governance": "综合治理", "mass_work": "群团工作", "daily": "日常工作及临时任务",
    "bonus": "特色加分项",
})
RULES: Mapping[str, str] = MappingProxyType({  # short names (tables, Excel)
    "quarter.first_place_award": "季度第一名奖励",
    "quarter.last_place_below_threshold_fine": "季度末位且低于阈值罚款",
    "quarter.last_place_no_secretary_no_fine": "季度末位但季末无在任书记，不罚款",
    "year.first_place_award": "年度第一名奖励",
    "year.inputs_missing": "缺经营业绩或述职评分，未排名",
    "year.last_place_below_threshold_fine": "年度末位且低于阈值：罚款、削减指标",
    "year.last_place_no_secretary_no_fine": "年度末位但年末无在任书记，不罚款",
    "year.quota_base": "按党员人数计算指标",
    "year.quota_cut_last_place": "末位：优秀党员指标减一、发展指标为零",
    "year.quota_raised_first_place": "第一名：指标增加",
})
RULE_TEXT: Mapping[str, str] = MappingProxyType({  # full sentences (explanations)
    "quarter.first_place_award": "季度第一名：奖励党建活动经费",
    "quarter.last_place_below_threshold_fine": "季度末位且季度得分低于阈值：书记罚款",
    "quarter.last_place_no_secretary_no_fine": "季度末位且低于阈值，但季末无在任书记：不罚款",
})

# -- rulebook parameters (field names of domain.assessment.rulebook.Rulebook) -------------------------

PARAMETERS: Mapping[str, str] = MappingProxyType({
    "version": "版本", "category_points": "各类别分值", "departments": "分块考核部门及类别",
    "base_score": "月度基础分", "bonus_cap": "月度加分上限", "coefficient_places": "系数小数位数",
    "part_time_allowance_floor": "兼职书记补贴得分下限",
    "quarter_first_award": "季度第一名奖励（元）", "quarter_fine_threshold": "季度罚款得分阈值",
    "quarter_fine_full_time": "季度罚款（专职书记，元）", "quarter_fine_part_time": "季度罚款（兼职书记，元）",
    "quarter_fined_places": "季度末位罚款的名数（末几名）", "annual_fined_places": "年度末位罚款与削减指标的名数（末几名）",
    "annual_weight_monthly": "年度权重：月度平均分", "annual_weight_unit": "年度权重：单位经营业绩",
    "annual_weight_debriefing": "年度权重：书记述职评分", "annual_first_award": "年度第一名奖励（元）",
    "annual_fine_threshold": "年度罚款得分阈值", "annual_fine_full_time": "年度罚款（专职书记，元）",
    "annual_fine_part_time": "年度罚款（兼职书记，元）",
    "development_quota_per": "发展党员指标：每多少名党员一个", "excellent_quota_per": "优秀党员指标：每多少名党员一个",
    "first_place_quota_per": "第一名增加指标：每多少名党员一个", "last_place_excellent_cut": "末位削减优秀党员指标数",
    "dual_formula": "双百分计算方式", "dual_business_weight": "双百分经营权重",
    "appeal_window_days": "申诉期限（天）",
    "points_base": "党员积分基础分", "points_min": "党员积分下限", "points_max": "党员积分上限",
    "points_weight_individual": "党员积分权重：个人行为", "points_weight_group": "党员积分权重：小组工作",
    "points_weight_appraisal": "党员积分权重：年度评议",
    "selection_weight_representatives": "竞聘权重：职工代表", "selection_weight_leaders": "竞聘权重：领导",
    "selection_threshold": "竞聘门槛分",
    "link_quota_default": "1+N 默认联系职工人数", "proposal_reward": "合理化建议奖励（元）",
    "points_per_grade": "创新积分每级分数",
    "talk_window_days": "谈话期限（天）", "visit_window_days": "走访期限（天）",
    "meeting_frequency": "会议频次（月）", "attendance_absent_points": "缺席计分",
    "attendance_excused_points": "请假计分", "dues_rates": "党费比例表", "dues_no_income": "无收入党员月党费（元）",
    "given": "本版给定的参数",
})

# -- event fields (what the event page shows for each stored field) ------------------------

EVENT_FIELDS: Mapping[str, str] = MappingProxyType({
    "timestamp": "事件时间", "originator_id": "聚合编号", "originator_topic": "聚合类型",
    "originator_version": "聚合版本", "actor": "操作人", "by": "登录用户", "achieved": "完成值",
    "allowance": "补贴", "amount": "金额", "answers": "三问回答", "appeal_id": "申诉编号", "apprentice": "徒弟",
    "attachment": "附件",
    "apprentice_name": "徒弟姓名", "approval_id": "审批编号", "attendance": "出勤", "base": "基数", "branch": "支部",
    "candidates": "候选人", "category": "类别", "cause": "原因", "chair": "主持人", "channel": "交纳方式",
    "code": "代码", "competition": "竞赛", "conducted_by": "执行人", "date": "日期", "decision": "决定",
    "decision_id": "决定编号", "delta": "变化", "department": "部门", "development_quota": "发展党员指标",
    "effective_from": "生效月份", "effective_us": "生效时间", "employee": "职工", "entry_count": "条目数",
    "entry_id": "条目编号", "excellent_member_quota": "优秀党员指标", "for_year": "所属年度",
    "from_month": "起始月份", "goal": "目标", "group": "党小组", "half": "半年", "item": "项目",
    "key": "幂等键", "kind": "类型", "leader": "领导", "leader_sheets": "领导评分表", "meeting_id": "会议编号",
    "member": "党员", "member_class": "党员类别", "members": "党员人数", "mentor": "师傅", "mentor_name": "师傅姓名",
    "mode": "任职方式", "month": "月份", "n": "联系人数", "name": "名称", "names": "名称", "new_points": "新分值",
    "note": "备注", "number": "序号", "occasion": "事项", "occasion_id": "事项编号", "old_points": "原分值",
    "outcome": "结果", "owner": "所属人", "owner_kind": "所属人类型", "paid_on": "交纳日期", "pair": "师徒",
    "parameters": "参数", "payment_id": "交纳编号", "period": "期间", "person": "人员", "points": "分值",
    "position": "位置", "previous": "原值", "previous_approval_id": "上次审批编号", "project": "项目",
    "proof": "证明", "proposal": "合理化建议", "rank": "名次", "ranking": "排名", "reason": "理由",
    "representative_sheets": "代表评分表", "results": "结果", "reward": "奖励", "role": "角色", "rule": "规则",
    "rulebook_version": "考核细则版本", "rulebook_versions": "考核细则各月版本", "score": "得分", "scores": "得分",
    "secretary": "书记", "selection": "竞聘", "sheet": "评分表", "standing": "身份", "statement": "公示内容",
    "statement_hash": "公示哈希", "status": "状态", "summary_sealed": "摘要（加密）", "summary_sha256": "摘要哈希",
    "target_unit": "目标单位", "target_value": "目标值", "threshold": "阈值", "title": "标题",
    "token_hash": "令牌哈希", "token_id": "令牌编号", "topic": "议题", "user": "用户", "value": "数值",
    "verifier_key": "验证公钥", "version": "版本", "weight_leaders": "领导权重",
    "migrated": "历史迁移", "occurred_at": "原始单据日期",
    "weight_representatives": "代表权重", "year": "年度",
    # inside an approval's proof and its ranking rows
    "rulebook_hash": "考核细则哈希", "result_hash": "结果哈希", "code_version": "程序版本",
    "award": "奖励（元）", "fine": "罚款（元）", "award_rule": "奖励规则", "fine_rule": "罚款规则", "notes": "适用规则",
    "coefficient": "系数", "months": "各月", "quarter_score": "季度得分", "annual_score": "年度得分",
    "monthly_mean": "月度平均分", "unit_performance": "单位经营业绩", "debriefing": "述职评分",
    "base_score": "基础分", "bonus": "加分", "deductions": "扣分", "dual_score": "双百分得分",
})

# -- what ``ledger verify`` reports (adapters/integrity/verify.py): kind → name ----------------

VERIFY_PROBLEMS: Mapping[str, str] = MappingProxyType({
    "payload_changed": "事件内容被改动", "event_missing": "事件缺失", "event_inserted": "插入了事件",
    "order_changed": "事件顺序被改动", "leaf_missing": "叶子缺失", "tree_altered": "树记录与日志不符",
    "checkpoint_root_altered": "检查点根哈希与日志不符", "signature_bad": "检查点签名无效",
    "approval_mismatch": "审批结果与重算不符",
    "key_untrusted": "日志登记的第一个公钥不是信任的公钥", "key_undeclared": "日志未登记签名公钥",
    "undecodable_payload": "事件内容无法解码", "unknown_topic": "未知的事件类型",
    "unknown_aggregate": "事件所属的对象不存在或类型不符", "unfoldable_event": "事件无法折叠（缺少字段或字段无效）",
    "view_mismatch": "维护的读模型与日志重算不符", "view_unreadable": "维护的读模型无法读取",
    "unauthorized_event": "事件的操作用户无权执行该操作", "invariant_broken": "事件违反业务规则（领域本会拒绝）",
    "attachment_missing": "事件所附的文件在附件库中缺失", "attachment_altered": "事件所附的文件与日志记录的 SHA-256 不符",
    "attachments_unchecked": "附件未核验：找不到附件库",
    "timestamp_out_of_order": "事件的记录时间早于前一个事件", "timestamp_in_future": "事件的记录时间晚于核验时的时钟",
    "timestamp_mismatch": "事件自身的时间与其记录时间相差过大",
})


# -- refusals (class names of domain.errors.LedgerError and its subclasses) -----------------

REFUSALS: Mapping[str, str] = MappingProxyType({
    "LedgerError": "操作被拒绝", "InvalidInput": "输入有误", "CorruptLog": "日志损坏", "NotInitialized": "账本尚未初始化",
    "BranchNotFound": "支部不存在", "BranchAlreadyRegistered": "支部已登记", "BranchNotTakingPart": "支部不参加考核",
    "WrongDepartment": "部门不符", "MonthNotOpenForEntries": "月度不接受录入", "MonthStateConflict": "月度状态不允许",
    "QuarterNotReady": "季度尚不能审批", "QuarterAlreadyApproved": "季度已审批", "YearAlreadyApproved": "年度已审批",
    "YearNotReady": "年度尚不能审批", "RulebookRefused": "考核细则被拒绝", "AppealRefused": "申诉被拒绝",
    "EntryNotFound": "条目不存在", "AttachmentNotFound": "附件不存在", "DocumentOrderConflict": "单据日期顺序冲突",
    "DuplicateKey": "幂等键重复", "ConcurrentWrite": "并发写入冲突",
    "PersonNotFound": "人员不存在", "PersonAlreadyRegistered": "人员已登记", "MembershipRefused": "组织关系操作被拒绝",
    "MemberPointsRefused": "党员积分被拒绝", "LinkRefused": "联系职工被拒绝", "ProjectNotFound": "项目不存在",
    "ProjectRefused": "项目操作被拒绝", "ProposalRefused": "合理化建议被拒绝", "SelectionNotFound": "竞聘不存在",
    "SelectionRefused": "竞聘操作被拒绝", "MentorshipNotFound": "师徒关系不存在", "MentorshipRefused": "师带徒操作被拒绝",
    "OccasionNotFound": "谈话走访事项不存在", "OccasionRefused": "谈话走访操作被拒绝",
    "VaultUnavailable": "密钥库不可用", "PermissionDenied": "无权操作", "SeparationOfDuties": "违反职责分离",
    "UserRefused": "用户操作被拒绝", "MeetingNotFound": "会议不存在", "MeetingRefused": "会议操作被拒绝",
    "DuesRefused": "党费操作被拒绝", "PaymentNotFound": "交纳记录不存在", "ImportRefused": "导入被拒绝",
    "BodyTooLarge": "请求内容过大", "ProofNotFound": "证明不存在", "PdfUnavailable": "不能生成 PDF",
    "BackupRefused": "备份或恢复被拒绝",
    # the HTTP layer's own refusals (the "error" code of a JSON error body)
    "NotFound": "找不到", "MethodNotAllowed": "不支持此请求方法", "BadRequest": "请求无效",
    "HTTPError": "请求未能完成", "InternalError": "服务器内部错误", "Unauthenticated": "未登录或令牌无效",
    "DatabaseUnavailable": "数据库暂不可用", "TooManyRequests": "请求过于频繁",
    "CheckpointRefused": "检查点签发被拒绝",
})

# -- commands (import "op" names) ---------------------------------------------------------

OPS: Mapping[str, str] = MappingProxyType({
    "adopt_rulebook": "通过考核细则", "answer_occasion": "完成谈话走访", "appoint_secretary": "任命支部书记",
    "approve_month": "审批月度", "approve_quarter": "审批季度", "approve_year": "审批年度",
    "award_innovation_points": "授予创新积分", "change_member_class": "变更党员类别", "close_selection": "结束竞聘",
    "complete_project": "完成项目", "correct_attendance": "更正出勤", "correct_entry": "更正条目",
    "create_user": "创建用户", "decide_appeal": "决定申诉", "enrol_member": "登记党员", "erase_person_key": "销毁摘要密钥",
    "file_appeal": "提出申诉",
    "grant_role": "授予角色", "issue_token": "签发令牌", "link_employee": "联系职工", "open_selection": "开始竞聘",
    "publish_dues": "公示党费", "raise_occasion": "提出谈话走访事项", "reapprove_quarter": "重新审批季度",
    "reapprove_year": "重新审批年度", "record_appraisal": "录入年度评议", "record_apprentice_appraisal": "录入徒弟评议",
    "record_business_score": "录入经营得分", "record_debriefing": "录入述职评分", "record_departure": "记录离开",
    "record_dues_payment": "记录党费交纳", "record_group_points": "录入党小组积分",
    "record_leader_sheet": "录入领导评分表", "record_meeting": "记录会议", "record_member_points": "录入个人积分",
    "record_personnel_event": "记录人事事项", "record_project_progress": "录入项目进展",
    "record_representative_sheet": "录入代表评分表", "record_score": "录入得分", "record_skill_result": "录入技能成绩",
    "record_unit_performance": "录入单位经营业绩", "register_branch": "登记支部", "register_employee": "登记职工",
    "register_mentorship": "登记师徒", "register_project": "登记项目", "return_month": "退回月度",
    "revoke_role": "撤销角色", "rotate_signing_key": "轮换签名密钥", "revoke_token": "吊销令牌", "set_dues_base": "核定党费基数",
    "set_link_quota": "设定联系职工人数", "set_members": "变更党员人数", "submit_month": "提交月度",
    "submit_proposal": "提交合理化建议", "transfer_person": "转接组织关系", "unlink_employee": "解除联系职工",
    "void_dues_payment": "作废党费交纳", "void_entry": "作废条目", "void_meeting": "作废会议",
    "void_member_points": "作废积分条目",
})

# -- input fields and input-error reasons ----------------------------------------------------

FIELDS: Mapping[str, str] = MappingProxyType({  # common input fields (others show their own name)
    "op": "操作", "branch": "支部", "period": "期间", "month": "月份", "quarter": "季度", "year": "年度",
    "category": "类别", "department": "部门", "points": "分值", "reason": "理由", "actor": "操作人",
    "entry": "条目", "entry_id": "条目", "appeal": "申诉", "appeal_id": "申诉", "decision": "决定",
    "members": "党员人数", "name": "名称", "secretary": "书记", "mode": "任职方式", "person": "人员",
    "member": "党员", "employee": "职工", "role": "角色", "user": "用户", "amount": "金额", "date": "日期",
    "score": "得分", "version": "版本", "from_month": "生效月份", "parameters": "参数", "kind": "类型",
    "status": "状态", "key": "幂等键", "idempotency_key": "幂等键", "body": "请求内容", "file": "文件",
    "as_of": "按账本记录时间截至", "documented_by": "按单据日期截至", "documented_at": "单据日期",
    "attachment": "附件",
})

PYDANTIC_REASONS: Mapping[str, str] = MappingProxyType({  # pydantic error "type" → reason
    "missing": "必填", "extra_forbidden": "不是可用的字段", "uuid_parsing": "应为有效的编号（UUID）",
    "uuid_type": "应为有效的编号（UUID）", "string_type": "应为文本", "string_too_short": "太短",
    "string_too_long": "太长", "string_pattern_mismatch": "格式不符", "int_type": "应为整数",
    "int_parsing": "应为整数", "int_from_float": "应为整数", "float_type": "应为数字", "float_parsing": "应为数字",
    "decimal_type": "应为数字", "decimal_parsing": "应为数字", "decimal_max_digits": "位数过多",
    "decimal_max_places": "小数位数过多", "decimal_whole_digits": "整数位数过多", "bool_type": "应为是或否",
    "bool_parsing": "应为是或否", "literal_error": "不是可选的值", "enum": "不是可选的值",
    "dict_type": "应为对象", "list_type": "应为列表", "tuple_type": "应为列表", "set_type": "应为列表",
    "too_short": "项数太少", "too_long": "项数太多", "greater_than": "太小", "greater_than_equal": "太小",
    "less_than": "太大", "less_than_equal": "太大", "date_type": "应为日期", "date_parsing": "应为日期（年-月-日）",
    "date_from_datetime_parsing": "应为日期（年-月-日）", "datetime_type": "应为时间",
    "datetime_parsing": "应为时间", "value_error": "取值无效", "assertion_error": "取值无效",
    "union_tag_invalid": "不是可用的操作", "union_tag_not_found": "缺少操作名", "model_type": "应为对象",
    "model_attributes_type": "应为对象", "json_invalid": "不是有效的 JSON", "json_type": "应为 JSON",
    "multiple_of": "不是规定的倍数", "finite_number": "应为有限的数", "is_instance_of": "类型不符",
    "none_required": "应为空", "frozen_field": "不可修改", "url_parsing": "应为网址",
})

JSON_ERRORS: Mapping[str, str] = MappingProxyType({  # json.JSONDecodeError.msg (its start) → reason
    "Unexpected UTF-8 BOM": "以字节顺序标记（BOM）开头：请存为不带 BOM 的 UTF-8 文本",
    "Expecting property name enclosed in double quotes": "此处应为用双引号括起的字段名",
    "Expecting value": "此处应为一个值",
    "Expecting ',' delimiter": "此处缺少逗号",
    "Expecting ':' delimiter": "此处缺少冒号",
    "Extra data": "一个 JSON 值之后还有多余内容",
    "Unterminated string starting at": "字符串缺少结尾的双引号",
    "Invalid control character at": "字符串中有未转义的控制字符",
    "Invalid \\escape": "字符串中有无效的转义",
    "Invalid \\uXXXX escape": "字符串中有无效的 \\u 转义",
})

# A run of two or more English words separated by spaces: a sentence for people that was not
# translated (codes, ids and single words such as JSON or UUID do not match).
ENGLISH = re.compile(r"[A-Za-z]{2,}(?: +[A-Za-z]{2,})+")

# -- lookups -------------------------------------------------------------------------------


def event_name(topic_or_name: str) -> str:
    """The Chinese name of an event type, given ``Aggregate.Event`` or a stored topic
    (``module:Aggregate.Event``); an unknown type reads ``其他事件``."""
    name = topic_or_name.rpartition(":")[2]
    if name not in EVENTS and "." not in name:  # a short name ("EntryCorrected"): the first aggregate with it
        name = next((k for k in EVENTS if k.endswith("." + name)), name)
    return EVENTS.get(name, "其他事件")


# which tables name the codes a stored field may hold (the first table that knows the code wins)
FIELD_CODES: Mapping[str, tuple[Mapping[Any, str], ...]] = MappingProxyType({
    "category": (CATEGORIES, DUES_CATEGORIES), "department": (DEPARTMENTS,), "rule": (RULES,),
    "mode": (MODES,), "channel": (DUES_CHANNELS,), "status": (ATTENDANCE, PERIOD_STATES, CARE_STATES),
    "kind": (MEETING_KINDS, CARE_KINDS, PERSON_KINDS, AMOUNT_KINDS, MEMBER_POINT_PARTS),
    "owner_kind": (PERSON_KINDS,), "item": (MEMBER_POINT_ITEMS,), "standing": (MENTOR_STANDINGS,),
    "outcome": (SELECTION_OUTCOMES,), "decision": (APPEAL_STATES,), "cause": (CORRECTION_CAUSES,),
    "member_class": (MEMBER_CLASSES,),
})


def code_name(field: str, value: Any) -> str | None:
    """The Chinese name of a code held by a stored field (``category`` = ``salaried`` →
    在职), or None when the field holds no named code."""
    for table in FIELD_CODES.get(field, ()):
        if value in table:
            return table[value]
    return None


def state_name(value: Any, kind: str = "period") -> str:
    """The Chinese name of a state of the given kind (see ``STATES``); ``-`` when empty."""
    if value in (None, "") and kind != "mode":
        return "-"
    return STATES[kind].get(value, str(value))


def role_name(role: str) -> str:
    """``approver`` → 党委书记（审批）; ``scorer:office`` → 办公室考核员;
    ``secretary:B01`` → B01 支部书记."""
    kind, _, arg = role.partition(":")
    if kind == "scorer":
        return f"{DEPARTMENTS.get(arg, arg)}考核员"
    if kind == "secretary":
        return f"{arg} 支部书记"
    return ROLES.get(role, role)


def department_name(code: str | None) -> str:
    """The Chinese name of a scoring department; ``-`` when empty."""
    return DEPARTMENTS.get(code or "", code or "-")


def category_name(code: str | None) -> str:
    """The Chinese name of an assessment category; ``-`` when empty."""
    return CATEGORIES.get(code or "", code or "-")


def rule_name(rule: str) -> str:
    """The short Chinese name of a rule id such as ``quarter.first_place_award``."""
    return RULES.get(rule, rule)


def parameter_name(name: str) -> str:
    """The Chinese name of a rulebook parameter."""
    return PARAMETERS.get(name, name)


def refusal_name(class_name: str) -> str:
    """The Chinese name of a refusal class (``InvalidInput`` → 输入有误)."""
    return REFUSALS.get(class_name, "操作被拒绝")


def event_field_name(name: str) -> str:
    """The Chinese name of a stored event field."""
    return EVENT_FIELDS.get(name, name)


def op_name(op: str) -> str:
    """The Chinese name of an import/API command ``op``."""
    return OPS.get(op, op)


def field_name(loc: Any) -> str:
    """A field path (a name or a pydantic ``loc`` tuple) as people read it: known names in
    Chinese, list positions as ``第 N 项``; an empty path reads ``请求内容``."""
    parts = loc if isinstance(loc, (tuple, list)) else ([] if loc in (None, "") else [loc])
    words = [f"第 {p + 1} 项" if isinstance(p, int) else FIELDS.get(str(p), str(p)) for p in parts]
    return " ".join(words) or "请求内容"


def replay_note(d: Mapping[str, Any]) -> str:
    """What a replayed view says about its clock (empty for a live view): by document date,
    how many events it placed and how many migrated ones it could not (no ``occurred_at``);
    by log time, the moment and the log position. One wording for CLI, web and exports.

    Precondition: ``d`` is a read model's dict with the replay stamp fields
    (``documented_by``/``document_clock`` or ``as_of``/``position``) when it was replayed."""
    if d.get("documented_by"):
        counts = d.get("document_clock") or {}
        missing = counts.get("unplaced") or 0
        return (f"{FIELDS['documented_by']} {d['documented_by']} 各原始单据所载（计入 {counts.get('placed', 0)} 个事件"
                + (f"；{missing} 个迁移事件没有原始单据日期，未能定位，未计入" if missing else "") + "）")
    if d.get("as_of"):
        return f"{FIELDS['as_of']} {d['as_of']}" + (f"（日志位置 {d['position']}）" if "position" in d else "")
    return ""


def english(text: str) -> list[str]:
    """The English phrases in a text meant for people (empty: none)."""
    return ENGLISH.findall(text)


def has_chinese(text: str) -> bool:
    """Whether a text has at least one Chinese character (a message written for people here,
    as opposed to a library's English one)."""
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def json_reason(message: str, line: int | None = None, column: int | None = None) -> str:
    """A JSON decoding error (``json.JSONDecodeError.msg``) in Chinese, with its place."""
    reason = next((r for m, r in JSON_ERRORS.items() if message.startswith(m)), "格式无效")
    where = (f"（第 {line} 行第 {column} 列）" if line is not None and column is not None
             else f"（第 {column} 列）" if column is not None else "")
    return f"不是有效的 JSON：{reason}{where}"


def input_reason(error_type: str) -> str:
    """The Chinese reason for a pydantic error ``type``; an unknown type reads ``取值无效``."""
    return PYDANTIC_REASONS.get(error_type, "取值无效")
